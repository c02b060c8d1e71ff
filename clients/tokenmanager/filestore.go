package tokenmanager

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
	"sync/atomic"
	"syscall"
	"time"
)

// lockPoll is how often a waiting Lock tries the file lock again. A blocking
// flock cannot be abandoned when ctx ends, so Lock polls a non-blocking one;
// refreshes take hundreds of milliseconds, so a few ms of extra wait is lost
// in the noise.
const lockPoll = 5 * time.Millisecond

// FileStore is a Store that keeps each key's token in its own file in one
// directory, encrypted with a Keyring. Its Lock is an OS advisory lock, so
// every FileStore on the same directory, in this process or another, takes
// turns refreshing a key.
type FileStore struct {
	dir string
	// keys is swapped whole by SetKeyring: a Load or Save in flight uses
	// the keyring it started with, never half of two.
	keys atomic.Pointer[Keyring]
}

// NewFileStore returns a FileStore on dir, creating it with mode 0700 when
// it does not exist. Tokens are encrypted with keys.
func NewFileStore(dir string, keys *Keyring) (*FileStore, error) {
	if keys == nil {
		return nil, errors.New("file store: nil keyring")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("file store: create %s: %w", dir, err)
	}
	s := &FileStore{dir: dir}
	s.keys.Store(keys)
	return s, nil
}

// SetKeyring replaces the keyring, as a key rotation does: from then on,
// files are encrypted with the new keyring's current key and decrypted
// with the key their envelope names, which the new keyring must still hold
// for every file saved before (each file moves to the new key on its next
// Save). It is safe to call while other goroutines use the store.
func (s *FileStore) SetKeyring(keys *Keyring) error {
	if keys == nil {
		return errors.New("file store: nil keyring")
	}
	s.keys.Store(keys)
	return nil
}

// path is the path of key's file with extension ext. The name is a hash of
// the key: any key, of any length or alphabet, becomes a safe name of fixed
// length, and account names such as e-mail addresses stay out of directory
// listings.
func (s *FileStore) path(key, ext string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:])+ext)
}

// Load returns the token under key, or ErrNoToken.
func (s *FileStore) Load(_ context.Context, key string) (Token, error) {
	path := s.path(key, ".tok")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Token{}, ErrNoToken
	}
	if err != nil {
		return Token{}, fmt.Errorf("load token %q: %w", key, err)
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return Token{}, fmt.Errorf("load token %q from %s: %w: not a token envelope: %v", key, path, ErrIntegrity, err)
	}
	plaintext, err := s.keys.Load().open(key, env)
	if err != nil {
		return Token{}, fmt.Errorf("load token %q from %s: %w", key, path, err)
	}
	var t Token
	if err := json.Unmarshal(plaintext, &t); err != nil {
		// The decoder's message may quote the plaintext, which is a token.
		return Token{}, fmt.Errorf("load token %q from %s: decrypted content is not a token", key, path)
	}
	return t, nil
}

// Save replaces the token under key, atomically: a crash leaves the old file
// or the new one, and an unrenamed temporary file that Load does not read.
func (s *FileStore) Save(_ context.Context, key string, t Token) error {
	plaintext, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("save token %q: %w", key, err)
	}
	data, err := json.Marshal(s.keys.Load().seal(key, plaintext))
	if err != nil {
		return fmt.Errorf("save token %q: %w", key, err)
	}
	if err := s.writeAtomic(s.path(key, ".tok"), data); err != nil {
		return fmt.Errorf("save token %q: %w", key, err)
	}
	return nil
}

// writeAtomic replaces path with data through a temporary file in the same
// directory, so that the rename cannot cross file systems. Syncing the file
// before the rename keeps a crash from renaming an empty file into place;
// syncing the directory after makes the rename itself durable.
func (s *FileStore) writeAtomic(path string, data []byte) error {
	// CreateTemp makes the file with mode 0600.
	tmp, err := os.CreateTemp(s.dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	renamed = true
	return s.syncDir()
}

func (s *FileStore) syncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Delete forgets the token under key. The removal is synced so that a
// logged-out grant does not come back after a crash.
func (s *FileStore) Delete(_ context.Context, key string) error {
	err := os.Remove(s.path(key, ".tok"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = s.syncDir()
	}
	if err != nil {
		return fmt.Errorf("delete token %q: %w", key, err)
	}
	return nil
}

// Lock takes the refresh lock for key, an flock on the key's lock file,
// waiting until it is free or ctx ends. Calling the returned unlock more
// than once is harmless. The lock file stays behind on unlock: removing it
// would let a waiter lock the removed file while a newcomer locks a new one.
func (s *FileStore) Lock(ctx context.Context, key string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Each Lock opens the file anew: flock excludes open files, not
	// processes, so two FileStores in one process exclude each other too.
	f, err := os.OpenFile(s.path(key, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock token %q: %w", key, err)
	}
	fd := int(f.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock token %q: %w", key, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// Unlock before closing: a descriptor duplicated into a child
			// process being started would otherwise hold the lock until
			// that child execs.
			syscall.Flock(fd, syscall.LOCK_UN)
			f.Close()
		})
	}, nil
}
