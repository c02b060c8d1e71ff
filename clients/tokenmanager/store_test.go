package tokenmanager_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/tokenmanager"
)

// The helpers here share the package with the manager's specs, so their
// names say they are about stores.

// storedToken has every field set, times in a zone other than UTC and with
// nanoseconds, so that a round trip that drops any of it shows.
var storedToken = tokenmanager.Token{
	AccessToken:  "at-secret-4711",
	RefreshToken: "rt-secret-0815",
	TokenType:    "Bearer",
	Scope:        "openid offline_access",
	Expiry:       time.Date(2026, 3, 1, 13, 0, 0, 123456789, time.FixedZone("CET", 3600)),
	Lifetime:     time.Hour,
	GrantedAt:    time.Date(2026, 2, 22, 9, 30, 0, 0, time.UTC),
	Subject:      "subject-alice-42",
	Backoff: tokenmanager.Backoff{
		Until:         time.Date(2026, 3, 1, 12, 10, 0, 987654321, time.FixedZone("EET", 7200)),
		Failures:      3,
		Cause:         "temporarily_unavailable backoff-cause-1234",
		Configuration: &tokenmanager.ConfigurationError{Code: "invalid_client", Description: "secret expired", Status: 401},
		Interaction:   &tokenmanager.InteractionRequired{Code: "interaction_required", Description: "AADSTS50076: MFA"},
	},
	LostRefreshAt: time.Date(2026, 3, 1, 12, 9, 59, 555555555, time.FixedZone("PST", -8*3600)),
}

// expectSameToken compares times by instant, as a serialized time keeps the
// instant but not the location or the monotonic reading, and everything
// else exactly.
func expectSameToken(got, want tokenmanager.Token) {
	GinkgoHelper()
	Expect(got.Expiry).To(BeTemporally("==", want.Expiry), "Expiry")
	Expect(got.GrantedAt).To(BeTemporally("==", want.GrantedAt), "GrantedAt")
	Expect(got.Backoff.Until).To(BeTemporally("==", want.Backoff.Until), "Backoff.Until")
	Expect(got.LostRefreshAt).To(BeTemporally("==", want.LostRefreshAt), "LostRefreshAt")
	got.Expiry, got.GrantedAt, got.Backoff.Until, got.LostRefreshAt = want.Expiry, want.GrantedAt, want.Backoff.Until, want.LostRefreshAt
	Expect(got).To(Equal(want))
}

// storeKeyring builds a Keyring whose keys are derived from their ids, so
// that two keyrings naming the same id hold the same key.
func storeKeyring(current string, ids ...string) *tokenmanager.Keyring {
	GinkgoHelper()
	keys := map[string][]byte{}
	for _, id := range append(ids, current) {
		sum := sha256.Sum256([]byte("store spec key " + id))
		keys[id] = sum[:]
	}
	ring, err := tokenmanager.NewKeyring(current, keys)
	Expect(err).NotTo(HaveOccurred())
	return ring
}

// lockResult is what a Lock started in the background came to.
type lockResult struct {
	unlock func()
	err    error
}

// lockInBackground starts a Lock on key and reports how it ended.
func lockInBackground(ctx context.Context, s tokenmanager.Store, key string) <-chan lockResult {
	done := make(chan lockResult, 1)
	go func() {
		unlock, err := s.Lock(ctx, key)
		done <- lockResult{unlock, err}
	}()
	return done
}

// expectLockExcludes checks that while first holds key's lock, a Lock
// through second waits, and that it gets the lock once first lets go.
func expectLockExcludes(ctx context.Context, first, second tokenmanager.Store, key string) {
	GinkgoHelper()
	unlock, err := first.Lock(ctx, key)
	Expect(err).NotTo(HaveOccurred())
	waiting := lockInBackground(ctx, second, key)
	Consistently(waiting, "200ms").ShouldNot(Receive(), "a second Lock on %q got the lock while the first held it", key)
	unlock()
	var got lockResult
	Eventually(waiting).Should(Receive(&got), "the second Lock on %q did not get the lock after the first unlocked", key)
	Expect(got.err).NotTo(HaveOccurred())
	got.unlock()
}

// storeContract holds the specs that every Store passes.
func storeContract(newStore func() tokenmanager.Store) {
	var store tokenmanager.Store
	BeforeEach(func() { store = newStore() })

	It("answers ErrNoToken for a key it holds nothing under", func(ctx SpecContext) {
		_, err := store.Load(ctx, "alice@demo")
		Expect(err).To(MatchError(tokenmanager.ErrNoToken))
	})

	DescribeTable("gives back what it saved",
		func(ctx SpecContext, saved tokenmanager.Token) {
			Expect(store.Save(ctx, "alice@demo", saved)).To(Succeed())
			got, err := store.Load(ctx, "alice@demo")
			Expect(err).NotTo(HaveOccurred())
			expectSameToken(got, saved)
		},
		Entry("every field set", storedToken),
		Entry("only an access token, times zero", tokenmanager.Token{AccessToken: "at-only"}),
	)

	It("keeps keys apart, and a Save replaces the earlier token", func(ctx SpecContext) {
		Expect(store.Save(ctx, "alice@demo", tokenmanager.Token{AccessToken: "alice-1"})).To(Succeed())
		Expect(store.Save(ctx, "bob@demo", tokenmanager.Token{AccessToken: "bob-1"})).To(Succeed())
		Expect(store.Save(ctx, "alice@demo", tokenmanager.Token{AccessToken: "alice-2"})).To(Succeed())
		Expect(store.Load(ctx, "alice@demo")).To(HaveField("AccessToken", "alice-2"))
		Expect(store.Load(ctx, "bob@demo")).To(HaveField("AccessToken", "bob-1"))
	})

	It("answers ErrNoToken after a Delete", func(ctx SpecContext) {
		Expect(store.Save(ctx, "alice@demo", storedToken)).To(Succeed())
		Expect(store.Delete(ctx, "alice@demo")).To(Succeed())
		_, err := store.Load(ctx, "alice@demo")
		Expect(err).To(MatchError(tokenmanager.ErrNoToken))
	})

	It("deletes a key it holds nothing under without error", func(ctx SpecContext) {
		Expect(store.Delete(ctx, "nobody@demo")).To(Succeed())
	})

	Describe("Lock", func() {
		It("holds off a second Lock on the same key until unlocked", func(ctx SpecContext) {
			expectLockExcludes(ctx, store, store, "alice@demo")
		})

		It("does not hold off a Lock on another key", func(ctx SpecContext) {
			unlock, err := store.Lock(ctx, "alice@demo")
			Expect(err).NotTo(HaveOccurred())
			defer unlock()
			other := lockInBackground(ctx, store, "bob@demo")
			var got lockResult
			Eventually(other, "1s").Should(Receive(&got), "Lock on bob@demo waited for alice@demo's lock")
			Expect(got.err).NotTo(HaveOccurred())
			got.unlock()
		})

		It("stops waiting with ctx's error when ctx is cancelled", func(ctx SpecContext) {
			unlock, err := store.Lock(ctx, "alice@demo")
			Expect(err).NotTo(HaveOccurred())
			defer unlock()
			waitCtx, cancel := context.WithCancel(ctx)
			waiting := lockInBackground(waitCtx, store, "alice@demo")
			Consistently(waiting, "50ms").ShouldNot(Receive())
			cancel()
			var got lockResult
			Eventually(waiting).Should(Receive(&got), "a Lock kept waiting after its ctx was cancelled")
			Expect(got.err).To(MatchError(context.Canceled))
		})

		It("fails at once on an ended ctx even when the lock is free", func(ctx SpecContext) {
			ended, cancel := context.WithCancel(ctx)
			cancel()
			_, err := store.Lock(ended, "alice@demo")
			Expect(err).To(MatchError(context.Canceled))
		})

		It("takes a second unlock of the same lock as a no-op", func(ctx SpecContext) {
			unlock, err := store.Lock(ctx, "alice@demo")
			Expect(err).NotTo(HaveOccurred())
			unlock()
			unlock()
			expectLockExcludes(ctx, store, store, "alice@demo")
		})
	})

	It("never hands out a mix of two Saves under concurrent Save and Load", func(ctx SpecContext) {
		keys := []string{"alice@demo", "bob@demo"}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				defer GinkgoRecover()
				for i := range 10 {
					key := keys[(g+i)%len(keys)]
					saved := tokenmanager.Token{AccessToken: fmt.Sprintf("at-%d-%d", g, i), RefreshToken: fmt.Sprintf("rt-%d-%d", g, i)}
					Expect(store.Save(ctx, key, saved)).To(Succeed())
					got, err := store.Load(ctx, key)
					Expect(err).NotTo(HaveOccurred())
					Expect(strings.TrimPrefix(got.RefreshToken, "rt-")).To(Equal(strings.TrimPrefix(got.AccessToken, "at-")),
						"the access and refresh tokens loaded come from different Saves")
				}
			})
		}
		wg.Wait()
	})
}

var _ = Describe("MemoryStore", func() {
	storeContract(func() tokenmanager.Store { return tokenmanager.NewMemoryStore() })
})

// tokenFiles lists dir's files other than lock files.
func tokenFiles(dir string) []string {
	GinkgoHelper()
	entries, err := os.ReadDir(dir)
	Expect(err).NotTo(HaveOccurred())
	var files []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lock") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files
}

// onlyTokenFile is the path of dir's one token file.
func onlyTokenFile(dir string) string {
	GinkgoHelper()
	files := tokenFiles(dir)
	Expect(files).To(HaveLen(1), "want exactly one token file in %s", dir)
	return files[0]
}

// diskEnvelope is a token file's content as the specs see it: the on-disk
// format is a contract of its own, which old files keep to.
type diskEnvelope struct {
	V     int    `json:"v"`
	KID   string `json:"kid"`
	Nonce []byte `json:"nonce"`
	CT    []byte `json:"ct"`
}

func readEnvelope(path string) diskEnvelope {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var env diskEnvelope
	Expect(json.Unmarshal(data, &env)).To(Succeed(), "token file %s is not a JSON envelope", path)
	return env
}

// saveAndTamper saves storedToken under alice@demo through s, whose
// directory is dir, and rewrites the file's envelope with tamper.
func saveAndTamper(ctx context.Context, s tokenmanager.Store, dir string, tamper func(*diskEnvelope)) {
	GinkgoHelper()
	Expect(s.Save(ctx, "alice@demo", storedToken)).To(Succeed())
	path := onlyTokenFile(dir)
	env := readEnvelope(path)
	tamper(&env)
	data, err := json.Marshal(env)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(path, data, 0o600)).To(Succeed())
}

// expectNoSecrets checks that an error tells nothing of the stored token.
func expectNoSecrets(err error) {
	GinkgoHelper()
	for _, secret := range []string{storedToken.AccessToken, storedToken.RefreshToken} {
		Expect(err.Error()).NotTo(ContainSubstring(secret), "an error message leaks a token")
	}
}

var _ = Describe("FileStore", func() {
	var dir string
	BeforeEach(func() { dir = GinkgoT().TempDir() })

	newFileStore := func(ring *tokenmanager.Keyring) *tokenmanager.FileStore {
		GinkgoHelper()
		s, err := tokenmanager.NewFileStore(dir, ring)
		Expect(err).NotTo(HaveOccurred())
		return s
	}

	storeContract(func() tokenmanager.Store { return newFileStore(storeKeyring("k1")) })

	It("creates its directory with mode 0700", func() {
		nested := filepath.Join(dir, "state", "tokens")
		_, err := tokenmanager.NewFileStore(nested, storeKeyring("k1"))
		Expect(err).NotTo(HaveOccurred())
		info, err := os.Stat(nested)
		Expect(err).NotTo(HaveOccurred())
		Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o700)))
	})

	It("refuses a nil keyring", func() {
		_, err := tokenmanager.NewFileStore(dir, nil)
		Expect(err).To(MatchError(ContainSubstring("nil keyring")))
	})

	It("writes the token file with mode 0600", func(ctx SpecContext) {
		Expect(newFileStore(storeKeyring("k1")).Save(ctx, "alice@demo", storedToken)).To(Succeed())
		info, err := os.Stat(onlyTokenFile(dir))
		Expect(err).NotTo(HaveOccurred())
		Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))
	})

	It("keeps the token and the account name out of what is on disk", func(ctx SpecContext) {
		Expect(newFileStore(storeKeyring("k1")).Save(ctx, "alice@demo", storedToken)).To(Succeed())
		path := onlyTokenFile(dir)
		Expect(filepath.Base(path)).NotTo(ContainSubstring("alice"))
		data, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		// The field names too: what the manager knows of the grant's state (a
		// backoff, a lost refresh) is sealed with the tokens.
		for _, plain := range []string{storedToken.AccessToken, storedToken.RefreshToken, storedToken.Scope, storedToken.Backoff.Cause, "alice", "backoff", "lost_refresh_at"} {
			Expect(string(data)).NotTo(ContainSubstring(plain))
		}
	})

	It("reads after a restart what the previous instance saved", func(ctx SpecContext) {
		Expect(newFileStore(storeKeyring("k1")).Save(ctx, "alice@demo", storedToken)).To(Succeed())
		got, err := newFileStore(storeKeyring("k1")).Load(ctx, "alice@demo")
		Expect(err).NotTo(HaveOccurred())
		expectSameToken(got, storedToken)
	})

	It("reads a file written before backoffs, lost refreshes and subjects were kept as a token without any", func(ctx SpecContext) {
		s := newFileStore(storeKeyring("k1"))
		Expect(s.Save(ctx, "alice@demo", storedToken)).To(Succeed())
		// The FileStore of commit 3aca361 saved storedToken, without its
		// Backoff, LostRefreshAt and Subject, which Token did not have then,
		// under alice@demo with storeKeyring("k1") into this file.
		old, err := os.ReadFile("testdata/token-before-backoff.tok")
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(onlyTokenFile(dir), old, 0o600)).To(Succeed())
		got, err := s.Load(ctx, "alice@demo")
		Expect(err).NotTo(HaveOccurred())
		want := storedToken
		want.Backoff, want.LostRefreshAt, want.Subject = tokenmanager.Backoff{}, time.Time{}, ""
		expectSameToken(got, want)
	})

	It("makes two instances on one directory take turns with a key's Lock", func(ctx SpecContext) {
		expectLockExcludes(ctx, newFileStore(storeKeyring("k1")), newFileStore(storeKeyring("k1")), "alice@demo")
	})

	It("takes turns with another process on a key's Lock", func(ctx SpecContext) {
		// util-linux flock(1) stands in for another process holding the store.
		if _, err := exec.LookPath("flock"); err != nil {
			Skip("flock(1) is not installed")
		}
		s := newFileStore(storeKeyring("k1"))
		unlock, err := s.Lock(ctx, "alice@demo")
		Expect(err).NotTo(HaveOccurred())
		lockFiles, err := filepath.Glob(filepath.Join(dir, "*.lock"))
		Expect(err).NotTo(HaveOccurred())
		Expect(lockFiles).To(HaveLen(1))

		By("another process finding the lock taken while this one holds it")
		busy := exec.CommandContext(ctx, "flock", "--nonblock", "--conflict-exit-code", "75", lockFiles[0], "true")
		Expect(busy.Run()).To(MatchError(ContainSubstring("exit status 75")))
		unlock()

		By("this process waiting while another one holds it")
		// Not bound to ctx, which ends before cleanups run: the process ends
		// by itself, and the spec waits for it below.
		other := exec.Command("flock", lockFiles[0], "sh", "-c", "echo locked; sleep 0.3")
		out, err := other.StdoutPipe()
		Expect(err).NotTo(HaveOccurred())
		Expect(other.Start()).To(Succeed())
		Expect(bufio.NewReader(out).ReadString('\n')).To(Equal("locked\n"))
		waiting := lockInBackground(ctx, s, "alice@demo")
		Consistently(waiting, "150ms").ShouldNot(Receive(), "Lock got through while another process held the lock")
		var got lockResult
		Eventually(waiting).Should(Receive(&got))
		Expect(got.err).NotTo(HaveOccurred())
		got.unlock()
		Expect(other.Wait()).To(Succeed())
	})

	Describe("key rotation", func() {
		BeforeEach(func(ctx SpecContext) {
			Expect(newFileStore(storeKeyring("k1")).Save(ctx, "alice@demo", storedToken)).To(Succeed())
			Expect(readEnvelope(onlyTokenFile(dir))).To(HaveField("KID", "k1"))
		})

		It("reads a file of the old key and saves it again under the new one", func(ctx SpecContext) {
			rotated := newFileStore(storeKeyring("k2", "k1"))
			got, err := rotated.Load(ctx, "alice@demo")
			Expect(err).NotTo(HaveOccurred())
			expectSameToken(got, storedToken)

			Expect(rotated.Save(ctx, "alice@demo", got)).To(Succeed())
			Expect(readEnvelope(onlyTokenFile(dir))).To(HaveField("KID", "k2"))
			got, err = newFileStore(storeKeyring("k2")).Load(ctx, "alice@demo")
			Expect(err).NotTo(HaveOccurred(), "a file saved after rotation still needs the old key")
			expectSameToken(got, storedToken)
		})

		It("rotates a store in use with SetKeyring, while other goroutines load and save", func(ctx SpecContext) {
			s := newFileStore(storeKeyring("k1"))
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					defer GinkgoRecover()
					for range 50 {
						got, err := s.Load(ctx, "alice@demo")
						Expect(err).NotTo(HaveOccurred())
						Expect(s.Save(ctx, "alice@demo", got)).To(Succeed())
					}
				})
			}
			Expect(s.SetKeyring(storeKeyring("k2", "k1"))).To(Succeed())
			wg.Wait()
			Expect(s.Save(ctx, "alice@demo", storedToken)).To(Succeed())
			Expect(readEnvelope(onlyTokenFile(dir))).To(HaveField("KID", "k2"))
			got, err := newFileStore(storeKeyring("k2")).Load(ctx, "alice@demo")
			Expect(err).NotTo(HaveOccurred())
			expectSameToken(got, storedToken)
		})

		It("refuses a nil keyring in SetKeyring, and keeps the one it had", func(ctx SpecContext) {
			s := newFileStore(storeKeyring("k1"))
			Expect(s.SetKeyring(nil)).To(MatchError(ContainSubstring("nil keyring")))
			_, err := s.Load(ctx, "alice@demo")
			Expect(err).NotTo(HaveOccurred())
		})

		It("names the missing key when the keyring no longer holds the file's", func(ctx SpecContext) {
			_, err := newFileStore(storeKeyring("k2")).Load(ctx, "alice@demo")
			Expect(err).To(MatchError(tokenmanager.ErrUnknownKeyID))
			Expect(err).To(MatchError(ContainSubstring(`"k1"`)))
			expectNoSecrets(err)
		})
	})

	DescribeTable("fails authentication on a file that was tampered with",
		func(ctx SpecContext, tamper func(*diskEnvelope)) {
			s := newFileStore(storeKeyring("k1", "k2"))
			saveAndTamper(ctx, s, dir, tamper)
			_, err := s.Load(ctx, "alice@demo")
			Expect(err).To(MatchError(tokenmanager.ErrIntegrity))
			expectNoSecrets(err)
		},
		Entry("a ciphertext bit flipped", func(env *diskEnvelope) { env.CT[0] ^= 1 }),
		Entry("the ciphertext cut short", func(env *diskEnvelope) { env.CT = env.CT[:len(env.CT)-1] }),
		Entry("a nonce bit flipped", func(env *diskEnvelope) { env.Nonce[0] ^= 1 }),
		Entry("the key id swapped for another held key", func(env *diskEnvelope) { env.KID = "k2" }),
	)

	It("fails authentication on a swapped key id even when both ids hold the same key", func(ctx SpecContext) {
		key := make([]byte, 32)
		ring, err := tokenmanager.NewKeyring("k1", map[string][]byte{"k1": key, "k9": key})
		Expect(err).NotTo(HaveOccurred())
		s := newFileStore(ring)
		saveAndTamper(ctx, s, dir, func(env *diskEnvelope) { env.KID = "k9" })
		_, err = s.Load(ctx, "alice@demo")
		Expect(err).To(MatchError(tokenmanager.ErrIntegrity))
	})

	It("refuses an envelope version it does not know, saying which", func(ctx SpecContext) {
		s := newFileStore(storeKeyring("k1"))
		saveAndTamper(ctx, s, dir, func(env *diskEnvelope) { env.V = 2 })
		_, err := s.Load(ctx, "alice@demo")
		Expect(err).To(MatchError(ContainSubstring("version 2 is not supported")))
	})

	It("fails authentication on a file that is not an envelope", func(ctx SpecContext) {
		s := newFileStore(storeKeyring("k1"))
		Expect(s.Save(ctx, "alice@demo", storedToken)).To(Succeed())
		Expect(os.WriteFile(onlyTokenFile(dir), []byte("{not json"), 0o600)).To(Succeed())
		_, err := s.Load(ctx, "alice@demo")
		Expect(err).To(MatchError(tokenmanager.ErrIntegrity))
	})

	It("fails authentication on a file copied to another key's name", func(ctx SpecContext) {
		s := newFileStore(storeKeyring("k1"))
		Expect(s.Save(ctx, "alice@demo", storedToken)).To(Succeed())
		alices := onlyTokenFile(dir)
		// A name as long as alice's, so that only the key's content tells them apart.
		Expect(s.Save(ctx, "carol@demo", tokenmanager.Token{AccessToken: "carol's"})).To(Succeed())
		var carols string
		for _, f := range tokenFiles(dir) {
			if f != alices {
				carols = f
			}
		}
		data, err := os.ReadFile(alices)
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(carols, data, 0o600)).To(Succeed())

		_, err = s.Load(ctx, "carol@demo")
		Expect(err).To(MatchError(tokenmanager.ErrIntegrity))
		expectNoSecrets(err)
	})

	Describe("a temporary file left by a crash during Save", func() {
		var s *tokenmanager.FileStore
		var leftover string
		BeforeEach(func(ctx SpecContext) {
			s = newFileStore(storeKeyring("k1"))
			Expect(s.Save(ctx, "alice@demo", storedToken)).To(Succeed())
			path := onlyTokenFile(dir)
			data, err := os.ReadFile(path)
			Expect(err).NotTo(HaveOccurred())
			// What a crash mid-write leaves: half an envelope, never renamed.
			leftover = path + ".tmp-1234567"
			Expect(os.WriteFile(leftover, data[:len(data)/2], 0o600)).To(Succeed())
		})

		It("leaves Load reading the last completed Save", func(ctx SpecContext) {
			got, err := s.Load(ctx, "alice@demo")
			Expect(err).NotTo(HaveOccurred())
			expectSameToken(got, storedToken)
		})

		It("is not taken for a token once the token is deleted", func(ctx SpecContext) {
			Expect(s.Delete(ctx, "alice@demo")).To(Succeed())
			Expect(leftover).To(BeAnExistingFile())
			_, err := s.Load(ctx, "alice@demo")
			Expect(err).To(MatchError(tokenmanager.ErrNoToken))
		})

		It("does not get in the way of the next Save", func(ctx SpecContext) {
			next := tokenmanager.Token{AccessToken: "at-next"}
			Expect(s.Save(ctx, "alice@demo", next)).To(Succeed())
			Expect(s.Load(ctx, "alice@demo")).To(HaveField("AccessToken", "at-next"))
		})
	})
})

var _ = DescribeTable("NewKeyring refuses",
	func(current string, keys map[string][]byte, says string) {
		_, err := tokenmanager.NewKeyring(current, keys)
		Expect(err).To(MatchError(ContainSubstring(says)))
	},
	Entry("a current key id that is not among the keys", "k2", map[string][]byte{"k1": make([]byte, 32)}, `"k2" is not among the keys`),
	Entry("a key that is not 32 bytes", "k1", map[string][]byte{"k1": make([]byte, 16)}, "16 bytes, want 32"),
	Entry("an empty key id", "k1", map[string][]byte{"k1": make([]byte, 32), "": make([]byte, 32)}, "empty key id"),
)
