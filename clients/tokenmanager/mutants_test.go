package tokenmanager_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/clients/refapp"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

func expiredAtResource(e events.Event) bool {
	return e.Kind == events.ResourceRequest && e.Status == http.StatusUnauthorized
}

func reuseDetected(e events.Event) bool { return e.Kind == events.RefreshReuseDetected }

// exhibit runs a scenario against a client and reports whether the bug
// showed; the reference must not show it, the mutant must.
type exhibit struct {
	mutant string
	show   func(build builder) bool
}

var exhibits = []exhibit{
	{"lose_refresh_token_on_reauthorization", func(b builder) bool {
		// Google answers a later sign-in of the same user without a
		// refresh token: the one the client has must stay.
		google, _ := profile.Lookup("google")
		r := newRigWith(b, google)
		r.authorize(r.m)
		auth, code := r.consent(r.m, nil)
		_, err := r.m.Exchange(ctx, code, auth)
		return errors.Is(err, tokenmanager.ErrNoRefreshToken)
	}},
	{"refresh_only_on_401", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.advance(61 * time.Minute)
		status, err := r.me(r.m)
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(Equal(http.StatusOK))
		return r.count(expiredAtResource) > 0
	}},
	{"keep_old_refresh_token", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.advance(58 * time.Minute)
		_, err := r.m.Token(ctx)
		Expect(err).NotTo(HaveOccurred())
		r.advance(58 * time.Minute)
		_, err = r.m.Token(ctx)
		return err != nil && r.count(reuseDetected) > 0
	}},
	{"memory_only", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		_, err := r.manager().Token(ctx)
		return err != nil
	}},
	{"no_single_flight", func(b builder) bool {
		// A store without a lock of its own (a plain cache, say): only
		// single flight stands between concurrent callers and a storm.
		r := newRigWith(b, profile.Generic())
		r.store = unlocked{r.store}
		r.m = r.manager()
		r.authorize(r.m)
		r.advance(58 * time.Minute)
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { _, _ = r.m.Token(ctx) })
		}
		wg.Wait()
		return r.refreshes() > 1
	}},
	{"retry_after_invalid_grant", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.revoke("")
		r.advance(61 * time.Minute)
		for range 3 {
			_, _ = r.m.Token(ctx)
			r.advance(10 * time.Minute)
		}
		return r.refreshes() > 1
	}},
	{"ignore_retry_after", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.fault(map[string]any{"kind": "rate_limit", "retry_after": "120s", "match": map[string]any{"grant_type": "refresh_token"}})
		r.advance(61 * time.Minute)
		for range 3 {
			_, _ = r.m.Token(ctx)
		}
		return r.refreshes() > 1
	}},
	{"discard_refresh_token_on_error", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.fault(map[string]any{"kind": "error", "status": 503, "match": map[string]any{"grant_type": "refresh_token", "count": 1}})
		r.advance(61 * time.Minute)
		_, _ = r.m.Token(ctx)
		r.advance(time.Minute)
		_, err := r.m.Token(ctx)
		return err != nil
	}},
	{"no_expiry_margin", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.fault(map[string]any{"kind": "backdate", "by": "120s"})
		r.authorize(r.m)
		r.advance(59 * time.Minute)
		_, err := r.me(r.m)
		Expect(err).NotTo(HaveOccurred())
		return r.count(expiredAtResource) > 0
	}},
	{"refresh_every_call", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		for range 3 {
			_, _ = r.m.Token(ctx)
		}
		return r.refreshes() > 0
	}},
	{"forget_offline_access", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		auth, code := r.consent(r.m, nil)
		_, err := r.m.Exchange(ctx, code, auth)
		return errors.Is(err, tokenmanager.ErrNoRefreshToken)
	}},
	{"logs_tokens", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		t := r.authorize(r.m)
		return containsAny(r.logs.String(), t.AccessToken, t.RefreshToken)
	}},
	{"no_secret_reload", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.rotateSecret()
		r.secret.Store("rotated")
		r.advance(58 * time.Minute)
		_, err := r.m.Token(ctx)
		return err != nil
	}},
	{"error_in_200_is_success", func(b builder) bool {
		github, _ := profile.Lookup("github")
		r := newRigWith(b, github)
		r.authorize(r.m)
		r.revoke("")
		r.advance(8 * time.Hour)
		t, err := r.m.Token(ctx)
		return err == nil && t.AccessToken == ""
	}},
	{"no_store_lock", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		other := r.manager() // a second process on the same store
		_, err := other.Token(ctx)
		Expect(err).NotTo(HaveOccurred())
		r.fault(map[string]any{"kind": "latency", "delay": "200ms", "match": map[string]any{"grant_type": "refresh_token"}})
		r.advance(58 * time.Minute)
		var wg sync.WaitGroup
		for _, m := range []*tokenmanager.Manager{r.m, other} {
			wg.Go(func() { _, _ = m.Token(ctx) })
		}
		wg.Wait()
		return r.refreshes() > 1
	}},
	{"retry_lost_refresh_after_grace", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.fault(map[string]any{"kind": "drop_after_commit", "match": map[string]any{"grant_type": "refresh_token", "count": 1}})
		r.advance(61 * time.Minute)
		_, _ = r.m.Token(ctx)
		r.advance(time.Minute)
		_, _ = r.m.Token(ctx)
		return r.count(reuseDetected) > 0
	}},
	{"refresh_loop_on_401", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.fault(map[string]any{"kind": "error", "status": 401, "oauth_error": "invalid_token", "match": map[string]any{"endpoint": "resource"}})
		status, err := r.me(r.m)
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(Equal(http.StatusUnauthorized))
		return r.refreshes() > 1
	}},
	{"api_retry_at_once", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.fault(map[string]any{"kind": "rate_limit", "retry_after": "30s", "match": map[string]any{"endpoint": "resource"}})
		status, err := r.me(r.m)
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(Equal(http.StatusTooManyRequests))
		return r.count(atResource) > 1
	}},
	{"token_in_error_detail", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		t := r.authorize(r.m)
		r.revoke("")
		r.advance(61 * time.Minute)
		_, err := r.m.Token(ctx)
		Expect(err).To(HaveOccurred())
		Expect(r.logs.String()).NotTo(ContainSubstring(t.RefreshToken), "the log is logs_tokens's concern")
		return strings.Contains(err.Error(), t.RefreshToken)
	}},
	{"dead_grant_as_temporary", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.revoke("")
		r.advance(61 * time.Minute)
		var outcomes []contract.Outcome
		for range 2 {
			_, err := r.m.Token(ctx)
			outcome, _ := tokenmanager.Outcome(err)
			outcomes = append(outcomes, outcome)
			r.advance(10 * time.Minute)
		}
		Expect(r.refreshes()).To(Equal(1), "the dead grant is remembered")
		return slices.Contains(outcomes, contract.OutcomeTemporaryError)
	}},
	{"narrow_refresh_scope", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		r.authorize(r.m)
		r.advance(58 * time.Minute)
		_, err := r.m.Token(ctx)
		Expect(err).NotTo(HaveOccurred())
		refreshes := r.sent.sentForms("refresh_token")
		Expect(refreshes).To(HaveLen(1))
		scope, asked := refreshes[0]["scope"]
		return asked && !slices.Contains(strings.Fields(scope[0]), "offline_access")
	}},
	{"no_state_check", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		app := r.app(b)
		callback := r.redirect(app)
		Expect(app.CompleteAuthorization(ctx, callback)).To(HaveField("Outcome", contract.OutcomeOK))
		By("the browser reloading the redirect")
		_ = app.CompleteAuthorization(ctx, callback)
		By("a callback with a state the application never sent")
		forged, err := url.Parse(r.redirect(app))
		Expect(err).NotTo(HaveOccurred())
		q := forged.Query()
		q.Set("state", "attacker-state")
		forged.RawQuery = q.Encode()
		_ = app.CompleteAuthorization(ctx, forged.String())
		return len(r.sent.sentForms("authorization_code")) > 1
	}},
	{"no_pkce", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		auth, err := r.m.AuthCodeURL("state-12345678", nil)
		Expect(err).NotTo(HaveOccurred())
		u, err := url.Parse(auth.URL)
		Expect(err).NotTo(HaveOccurred())
		r.authorize(r.m)
		return u.Query().Get("code_challenge") == "" || r.sent.sentForms("authorization_code")[0].Get("code_verifier") == ""
	}},
	{"no_nonce_check", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		// The browser brings a code whose id_token carries another nonce, as
		// an injected code from another authorization would.
		auth, code := r.consent(r.m, func(q url.Values) { q.Set("nonce", "another-authorization") })
		Expect(auth.Nonce).NotTo(BeEmpty())
		_, err := r.m.Exchange(ctx, code, auth)
		return err == nil
	}},
	{"expiry_from_date_header", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		// The provider's clock, and its Date header, run ten minutes ahead:
		// beyond the five-minute margin.
		r.fault(map[string]any{"kind": "skew", "offset": "10m"})
		r.authorize(r.m)
		// Past the token's hour on the provider's clock, before the
		// mutant's margin on the hour it read from the Date header.
		r.advance(62 * time.Minute)
		status, err := r.me(r.m)
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(Equal(http.StatusOK))
		return r.count(expiredAtResource) > 0
	}},
	{"plain_text_at_rest", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		dir := GinkgoT().TempDir()
		app := r.app(b, func(s *refapp.Settings) { s.StateDir = dir })
		Expect(app.CompleteAuthorization(ctx, r.redirect(app))).To(HaveField("Outcome", contract.OutcomeOK))
		t, res := app.Token(ctx, "")
		Expect(res.Outcome).To(Equal(contract.OutcomeOK))
		return stateHolds(dir, t.AccessToken, t.RefreshToken)
	}},
	{"forget_old_storage_keys", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		keyFile := filepath.Join(GinkgoT().TempDir(), "storage-keys")
		writeStorageKeys(keyFile, "k1")
		app := r.app(b, func(s *refapp.Settings) { s.StorageKeyFile = keyFile })
		Expect(app.CompleteAuthorization(ctx, r.redirect(app))).To(HaveField("Outcome", contract.OutcomeOK))
		By("a rotation of the storage key, the old one kept in the file")
		writeStorageKeys(keyFile, "k2", "k1")
		Expect(app.StorageKey()).To(Succeed())
		r.advance(58 * time.Minute)
		res, err := app.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		return res.Outcome == contract.OutcomeReauthorize
	}},
	{"tenant_mix_up", func(b builder) bool {
		r := newRigWith(b, profile.Generic())
		app := r.app(b, func(s *refapp.Settings) {
			s.Tenants = []refapp.Tenant{
				{Name: "acme", ClientID: "demo", RedirectURI: simulator.DemoRedirectURI, Secret: s.Secret, Provider: s.Provider},
				{Name: "globex", ClientID: "demo-public", RedirectURI: simulator.DemoRedirectURI, Provider: s.Provider},
			}
		})
		acme, err := app.Tenant("acme")
		Expect(err).NotTo(HaveOccurred())
		globex, err := app.Tenant("globex")
		Expect(err).NotTo(HaveOccurred())
		Expect(acme.CompleteAuthorization(ctx, r.redirect(acme))).To(HaveField("Outcome", contract.OutcomeOK))
		r.advance(58 * time.Minute)
		_, err = globex.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		// Only acme has a grant: any refresh globex sends presents acme's
		// refresh token with globex's client id.
		return slices.ContainsFunc(r.sent.sentForms("refresh_token"), func(f url.Values) bool { return f.Get("client_id") == "demo-public" })
	}},
}

// stateHolds reports whether a file under dir holds one of tokens as it is.
func stateHolds(dir string, tokens ...string) bool {
	GinkgoHelper()
	Expect(tokens).NotTo(BeEmpty())
	found := false
	Expect(filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = found || containsAny(string(b), tokens...)
		return nil
	})).To(Succeed())
	return found
}

// writeStorageKeys writes a storage key file of the keys named ids, the
// first current, each derived from its id; atomically, as the harness does.
func writeStorageKeys(path string, ids ...string) {
	GinkgoHelper()
	var keys []contract.StorageKey
	for _, id := range ids {
		sum := sha256.Sum256([]byte("mutant spec key " + id))
		keys = append(keys, contract.StorageKey{ID: id, Key: sum[:]})
	}
	Expect(os.WriteFile(path+".tmp", []byte(contract.FormatStorageKeys(keys)), 0o600)).To(Succeed())
	Expect(os.Rename(path+".tmp", path)).To(Succeed())
}

func atResource(e events.Event) bool { return e.Kind == events.ResourceRequest }

type builder = func(tokenmanager.Config) (*tokenmanager.Manager, error)

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

var _ = Describe("The broken variants", func() {
	It("each have an exhibit, and there are at least twenty-five", func() {
		var names []string
		for _, x := range exhibits {
			names = append(names, x.mutant)
		}
		var all []string
		for _, m := range mutants.All() {
			all = append(all, m.Name)
			Expect(m.Bug).NotTo(BeEmpty())
			Expect(m.Origin.Failure).NotTo(BeEmpty(), "%s names no field failure", m.Name)
			Expect(m.Origin.Source).NotTo(BeEmpty(), "%s names no public source", m.Name)
		}
		Expect(names).To(ConsistOf(all))
		Expect(len(all)).To(BeNumerically(">=", 25))
	})

	for _, x := range exhibits {
		It(x.mutant+": the mutant shows its bug where the reference does not", func() {
			By("the reference")
			Expect(x.show(tokenmanager.New)).To(BeFalse(), "the reference shows the bug")
			By("the mutant")
			m, ok := mutants.Lookup(x.mutant)
			Expect(ok).To(BeTrue())
			Expect(x.show(m.New)).To(BeTrue(), "the mutant hides its bug")
		})
	}
})

// unlocked is a store whose Lock excludes nothing.
type unlocked struct{ tokenmanager.Store }

func (unlocked) Lock(context.Context, string) (func(), error) { return func() {}, nil }
