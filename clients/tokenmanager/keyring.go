package tokenmanager

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// envelopeVersion is the only on-disk format there is so far; a file with
// another version was written by a format this code does not know.
const envelopeVersion = 1

// ErrUnknownKeyID is returned when a token file was encrypted with a key the
// Keyring does not hold: a key retired too early, or a keyring from another
// deployment.
var ErrUnknownKeyID = errors.New("token file encrypted with a key id the keyring does not hold")

// ErrIntegrity is returned when a token file fails authentication: it was
// corrupted, tampered with, or copied from another key's name.
var ErrIntegrity = errors.New("token file failed authentication (corrupted, tampered with, or stored under another key's name)")

// Keyring holds the AES-256 keys that encrypt tokens at rest, by id. New
// files are encrypted with the current key; a file is decrypted with the key
// its envelope names. To rotate, build a Keyring whose current key is the new
// one, keep the old one in it until every file has been saved again, and
// hand it to FileStore.SetKeyring (or a new FileStore).
// A Keyring is immutable and safe for concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewKeyring builds a Keyring from 32-byte keys by id, currentID naming the
// one that encrypts. The key bytes are not retained, so the caller may wipe
// its copy afterwards.
func NewKeyring(currentID string, keys map[string][]byte) (*Keyring, error) {
	if _, ok := keys[currentID]; !ok {
		return nil, fmt.Errorf("keyring: current key id %q is not among the keys", currentID)
	}
	aeads := make(map[string]cipher.AEAD, len(keys))
	for id, key := range keys {
		if id == "" {
			// An envelope without a kid must not find a key by accident.
			return nil, errors.New("keyring: empty key id")
		}
		if len(key) != 32 {
			return nil, fmt.Errorf("keyring: key %q is %d bytes, want 32 (AES-256)", id, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", id, err)
		}
		aeads[id] = aead
	}
	return &Keyring{current: currentID, aeads: aeads}, nil
}

// Current is the id of the key that encrypts.
func (k *Keyring) Current() string { return k.current }

// envelope is a token file's content. Binary fields travel as base64 in JSON.
type envelope struct {
	V     int    `json:"v"`
	KID   string `json:"kid"`
	Nonce []byte `json:"nonce"`
	CT    []byte `json:"ct"`
}

// seal encrypts plaintext for storeKey with the current key.
func (k *Keyring) seal(storeKey string, plaintext []byte) envelope {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	// Since Go 1.24 rand.Read never returns an error; it crashes instead.
	rand.Read(nonce)
	env := envelope{V: envelopeVersion, KID: k.current, Nonce: nonce}
	env.CT = aead.Seal(nil, nonce, plaintext, additionalData(env.V, env.KID, storeKey))
	return env
}

// open decrypts env, which must have been sealed for storeKey.
func (k *Keyring) open(storeKey string, env envelope) ([]byte, error) {
	if env.V != envelopeVersion {
		return nil, fmt.Errorf("token envelope version %d is not supported (want %d)", env.V, envelopeVersion)
	}
	aead, ok := k.aeads[env.KID]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKeyID, env.KID)
	}
	if len(env.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("%w: nonce is %d bytes", ErrIntegrity, len(env.Nonce))
	}
	plaintext, err := aead.Open(nil, env.Nonce, env.CT, additionalData(env.V, env.KID, storeKey))
	if err != nil {
		return nil, ErrIntegrity
	}
	return plaintext, nil
}

// additionalData binds the ciphertext to its version, key id and store key,
// so that none of them can be swapped without failing authentication. The
// strings are length-prefixed so that no two (kid, key) pairs encode alike.
func additionalData(version int, kid, storeKey string) []byte {
	ad := binary.AppendUvarint(nil, uint64(version))
	ad = binary.AppendUvarint(ad, uint64(len(kid)))
	ad = append(ad, kid...)
	ad = binary.AppendUvarint(ad, uint64(len(storeKey)))
	return append(ad, storeKey...)
}
