package refapp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/internal/flaw"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
)

// builtinKey encrypts the token files when the application is given no
// storage key file (Settings.StorageKeyFile). It is in the program, so it
// keeps the tokens out of plain sight and nothing more; the harness always
// gives a key file.
var builtinKey = []byte("oauthsim conformance state key!!")

// builtinKeyID names builtinKey in the envelopes it sealed.
const builtinKeyID = "k1"

// vault is the tokenmanager.Store of every registration of the
// application: a FileStore on the state directory, encrypted with the keys
// of the storage key file, which rotate reads again. It also carries the
// application's flaws that live in storage, set once by New before any use.
type vault struct {
	dir     string
	keyFile string
	files   *tokenmanager.FileStore

	// rotating serializes the reads of the key file, so that an older read
	// finishing late cannot replace the keyring of a newer one.
	rotating sync.Mutex

	// plain is the plain_text_at_rest flaw: the tokens go to disk as JSON.
	plain bool
	// currentOnly is the forget_old_storage_keys flaw: the keyring holds the
	// current key alone, and a file it cannot read counts as none.
	currentOnly bool
}

// openVault reads the key file (or takes the built-in key when keyFile is
// empty) and opens the FileStore on dir.
func openVault(dir, keyFile string) (*vault, error) {
	v := &vault{dir: dir, keyFile: keyFile}
	keys, err := v.keyring()
	if err != nil {
		return nil, err
	}
	if v.files, err = tokenmanager.NewFileStore(dir, keys); err != nil {
		return nil, err
	}
	return v, nil
}

// flawed switches on the flaw f where it lives in storage. It runs before
// the vault is used, so that the fields it sets need no lock.
func (v *vault) flawed(f flaw.Flaw) error {
	v.plain = f == flaw.PlainTextAtRest
	v.currentOnly = f == flaw.ForgetOldStorageKeys
	if v.currentOnly && v.keyFile != "" {
		// The keyring read before the flaw was known holds every key.
		return v.rotate()
	}
	return nil
}

// keyring builds the keyring from the key file: its first key encrypts, the
// others decrypt what was saved before them (PROTOCOL.md, Storage keys).
func (v *vault) keyring() (*tokenmanager.Keyring, error) {
	if v.keyFile == "" {
		return tokenmanager.NewKeyring(builtinKeyID, map[string][]byte{builtinKeyID: builtinKey})
	}
	b, err := os.ReadFile(v.keyFile)
	if err != nil {
		return nil, fmt.Errorf("read the storage key file: %w", err)
	}
	keys, err := contract.ParseStorageKeys(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.keyFile, err)
	}
	if v.currentOnly {
		keys = keys[:1]
	}
	byID := make(map[string][]byte, len(keys))
	for _, k := range keys {
		byID[k.ID] = k.Key
	}
	return tokenmanager.NewKeyring(keys[0].ID, byID)
}

// rotate reads the key file again and swaps the keyring. A file that
// cannot be read leaves the keyring as it was: the old keys still read and
// write the state, and the error says what is wrong with the file.
func (v *vault) rotate() error {
	if v.keyFile == "" {
		return errors.New("no storage key file: the token files are encrypted with the application's built-in key, which does not rotate")
	}
	v.rotating.Lock()
	defer v.rotating.Unlock()
	keys, err := v.keyring()
	if err != nil {
		return err
	}
	return v.files.SetKeyring(keys)
}

// Load reads the token under key. A file sealed with a key the keyring
// does not hold makes it read the key file once more before giving up:
// another process sharing the state directory may have taken a rotation
// first and saved under the new key.
func (v *vault) Load(ctx context.Context, key string) (tokenmanager.Token, error) {
	if v.plain {
		return v.loadPlain(key)
	}
	t, err := v.files.Load(ctx, key)
	if errors.Is(err, tokenmanager.ErrUnknownKeyID) && v.keyFile != "" {
		if rerr := v.rotate(); rerr == nil {
			t, err = v.files.Load(ctx, key)
		}
	}
	if err != nil && v.currentOnly && (errors.Is(err, tokenmanager.ErrUnknownKeyID) || errors.Is(err, tokenmanager.ErrIntegrity)) {
		// The flaw: what it cannot decrypt it takes for nothing kept.
		return tokenmanager.Token{}, tokenmanager.ErrNoToken
	}
	return t, err
}

// Save stores t under key, encrypted with the current key.
func (v *vault) Save(ctx context.Context, key string, t tokenmanager.Token) error {
	if v.plain {
		return v.savePlain(key, t)
	}
	return v.files.Save(ctx, key, t)
}

// Delete forgets the token under key.
func (v *vault) Delete(ctx context.Context, key string) error {
	if v.plain {
		if err := os.Remove(v.plainPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete token %q: %w", key, err)
		}
		return nil
	}
	return v.files.Delete(ctx, key)
}

// Lock is the FileStore's, whatever the flaw: processes take turns.
func (v *vault) Lock(ctx context.Context, key string) (func(), error) {
	return v.files.Lock(ctx, key)
}

// plainPath is the plain_text_at_rest flaw's file for key.
func (v *vault) plainPath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(v.dir, hex.EncodeToString(sum[:])+".json")
}

func (v *vault) loadPlain(key string) (tokenmanager.Token, error) {
	b, err := os.ReadFile(v.plainPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return tokenmanager.Token{}, tokenmanager.ErrNoToken
	}
	if err != nil {
		return tokenmanager.Token{}, fmt.Errorf("load token %q: %w", key, err)
	}
	var t tokenmanager.Token
	if err := json.Unmarshal(b, &t); err != nil {
		return tokenmanager.Token{}, fmt.Errorf("load token %q: not a token", key)
	}
	return t, nil
}

// savePlain writes the token as it is, through a renamed temporary file
// so that a concurrent Load never reads half of it.
func (v *vault) savePlain(key string, t tokenmanager.Token) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("save token %q: %w", key, err)
	}
	tmp, err := os.CreateTemp(v.dir, "plain-*")
	if err != nil {
		return fmt.Errorf("save token %q: %w", key, err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save token %q: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), v.plainPath(key)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save token %q: %w", key, err)
	}
	return nil
}
