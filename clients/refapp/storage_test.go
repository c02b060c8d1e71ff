package refapp_test

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/refapp"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
)

// storageKey is the key named id, derived from it, so that two files
// naming the same id hold the same key.
func storageKey(id string) contract.StorageKey {
	sum := sha256.Sum256([]byte("refapp spec key " + id))
	return contract.StorageKey{ID: id, Key: sum[:]}
}

// writeFile replaces path with content atomically, as the harness rewrites
// its files.
func writeFile(path, content string) {
	GinkgoHelper()
	Expect(os.WriteFile(path+".tmp", []byte(content), 0o600)).To(Succeed())
	Expect(os.Rename(path+".tmp", path)).To(Succeed())
}

// writeKeys writes the storage key file with the keys named ids, the first
// the current one.
func writeKeys(path string, ids ...string) {
	GinkgoHelper()
	var keys []contract.StorageKey
	for _, id := range ids {
		keys = append(keys, storageKey(id))
	}
	writeFile(path, contract.FormatStorageKeys(keys))
}

// kids lists the key id of every token file under stateDir, as its
// envelope names it.
func kids(stateDir string) []string {
	GinkgoHelper()
	files, err := filepath.Glob(filepath.Join(stateDir, "tokens", "*.tok"))
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		Expect(err).NotTo(HaveOccurred())
		var env struct {
			KID string `json:"kid"`
		}
		Expect(json.Unmarshal(b, &env)).To(Succeed())
		out = append(out, env.KID)
	}
	return out
}

// callOK makes a call through app and expects it to succeed.
func callOK(ctx SpecContext, app *refapp.App) {
	GinkgoHelper()
	res, err := app.Call(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(res.Outcome).To(Equal(contract.OutcomeOK), "detail: %s", res.Detail)
}

var _ = Describe("The reference application's storage keys", func() {
	var (
		keyFile, stateDir string
		// withKeys has the application use the key file and the state
		// directory above.
		withKeys func(*refapp.Settings)
	)
	BeforeEach(func() {
		keyFile = filepath.Join(GinkgoT().TempDir(), "storage-keys")
		stateDir = GinkgoT().TempDir()
		writeKeys(keyFile, "k1")
		withKeys = func(s *refapp.Settings) { s.StorageKeyFile, s.StateDir = keyFile, stateDir }
	})

	It("keeps what it saved under the old key readable after a rotation, and saves it under the new key next time", func(ctx SpecContext) {
		app, srv, client := started(ctx, withKeys)
		Expect(app.CompleteAuthorization(ctx, redirect(app, client))).To(HaveField("Outcome", contract.OutcomeOK))
		Expect(kids(stateDir)).To(Equal([]string{"k1"}))

		By("a rotation: k2 current, k1 kept")
		writeKeys(keyFile, "k2", "k1")
		Expect(app.StorageKey()).To(Succeed())
		Expect(kids(stateDir)).To(Equal([]string{"k1"}), "nothing was saved yet")

		By("a process started after the rotation, which reads the file of k1")
		restarted, err := refapp.New(ctx, settingsOf(srv, client, withKeys), tokenmanager.New)
		Expect(err).NotTo(HaveOccurred())
		callOK(ctx, restarted)

		By("a refresh, whose save is under k2")
		fake(srv).Advance(58 * time.Minute)
		callOK(ctx, app)
		Expect(kids(stateDir)).To(Equal([]string{"k2"}))

		By("a keyring of k2 alone, which now reads it")
		writeKeys(keyFile, "k2")
		alone, err := refapp.New(ctx, settingsOf(srv, client, withKeys), tokenmanager.New)
		Expect(err).NotTo(HaveOccurred())
		callOK(ctx, alone)
	})

	It("reads a file another process saved under a key it was not told of yet", func(ctx SpecContext) {
		app, srv, client := started(ctx, withKeys)
		Expect(app.CompleteAuthorization(ctx, redirect(app, client))).To(HaveField("Outcome", contract.OutcomeOK))
		other, err := refapp.New(ctx, settingsOf(srv, client, withKeys), tokenmanager.New)
		Expect(err).NotTo(HaveOccurred())

		writeKeys(keyFile, "k2", "k1")
		Expect(app.StorageKey()).To(Succeed())
		fake(srv).Advance(58 * time.Minute)
		callOK(ctx, app)
		Expect(kids(stateDir)).To(Equal([]string{"k2"}))
		callOK(ctx, other)
	})

	It("serves concurrent calls while it takes a rotation", func(ctx SpecContext) {
		app, srv, client := started(ctx, withKeys)
		Expect(app.CompleteAuthorization(ctx, redirect(app, client))).To(HaveField("Outcome", contract.OutcomeOK))
		writeKeys(keyFile, "k2", "k1")
		fake(srv).Advance(58 * time.Minute)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				defer GinkgoRecover()
				callOK(ctx, app)
			})
		}
		Expect(app.StorageKey()).To(Succeed())
		wg.Wait()
		Expect(kids(stateDir)).To(HaveLen(1))
		callOK(ctx, app)
	})

	DescribeTable("refuses to start on a key file it cannot use, saying why",
		func(ctx SpecContext, content, want string) {
			if content == "" {
				Expect(os.Remove(keyFile)).To(Succeed())
			} else {
				writeFile(keyFile, content)
			}
			s := refapp.Settings{Issuer: "http://127.0.0.1:1", ClientID: "demo", StateDir: stateDir, StorageKeyFile: keyFile}
			_, err := refapp.New(ctx, s, tokenmanager.New)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("no file", "", "read the storage key file"),
		Entry("a line without a key", "k1\n", "line 1: want an id"),
		Entry("a key of 16 bytes", "k1 AAAAAAAAAAAAAAAAAAAAAA==\n", "the key must be 32 bytes"),
		Entry("the same id twice", contract.FormatStorageKeys([]contract.StorageKey{storageKey("k1"), storageKey("k1")}), "comes twice"),
		Entry("no line at all", "\n", "line 1"),
	)

	It("keeps its keys when a rotation leaves the key file malformed, and says what is wrong", func(ctx SpecContext) {
		app, srv, client := started(ctx, withKeys)
		Expect(app.CompleteAuthorization(ctx, redirect(app, client))).To(HaveField("Outcome", contract.OutcomeOK))
		writeFile(keyFile, "k2 not-base64\n")
		Expect(app.StorageKey()).To(MatchError(ContainSubstring("the key must be 32 bytes")))
		fake(srv).Advance(58 * time.Minute)
		callOK(ctx, app)
		Expect(kids(stateDir)).To(Equal([]string{"k1"}))
	})

	It("without a key file, encrypts with its built-in key, which does not rotate", func(ctx SpecContext) {
		app, _ := signedIn(ctx, func(s *refapp.Settings) { s.StateDir = stateDir })
		Expect(kids(stateDir)).To(HaveLen(1))
		Expect(app.StorageKey()).To(MatchError(ContainSubstring("no storage key file")))
		callOK(ctx, app)
	})
})
