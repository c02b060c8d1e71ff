package contract

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// Tenant is one client registration of a scenario that names several (an
// enterprise customer with an OAuth app of its own), as EnvTenants lists
// them (PROTOCOL.md, Tenants).
type Tenant struct {
	// Name is what requests call the tenant (Request.Tenant).
	Name string `json:"name"`
	// ClientID and RedirectURI are the tenant's registration.
	ClientID    string `json:"client_id"`
	RedirectURI string `json:"redirect_uri"`
	// ClientSecretFile holds the tenant's client secret, as
	// EnvClientSecretFile does the first tenant's; empty for a public
	// client.
	ClientSecretFile string `json:"client_secret_file,omitempty"`
	// RefreshRotation and RefreshGrace are what the provider documents
	// about the tenant's refresh tokens, as EnvRefreshRotation and
	// EnvRefreshGrace say it for the first tenant.
	RefreshRotation Rotation `json:"refresh_rotation"`
	RefreshGrace    int      `json:"refresh_grace"`
}

// StorageKey is one line of EnvStorageKeyFile: an id and 32 bytes of key.
type StorageKey struct {
	ID  string
	Key []byte
}

// storageKeyID is what a key id may be: short, and safe in any file format.
var storageKeyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ParseStorageKeys reads EnvStorageKeyFile's content: one key a line, an
// id, a space, and 32 bytes in standard base64 with padding; the first is
// the current key, the others older ones, newest first (PROTOCOL.md,
// Storage keys).
func ParseStorageKeys(content string) ([]StorageKey, error) {
	var out []StorageKey
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimRight(content, "\n"), "\n") {
		id, b64, ok := strings.Cut(line, " ")
		if !ok || !storageKeyID.MatchString(id) {
			return nil, fmt.Errorf("storage key file, line %d: want an id ([A-Za-z0-9._-], 1 to 64 characters), a space and a base64 key", i+1)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("storage key file, line %d (key %s): the key must be 32 bytes in standard base64", i+1, id)
		}
		if seen[id] {
			return nil, fmt.Errorf("storage key file, line %d: key id %s comes twice", i+1, id)
		}
		seen[id] = true
		out = append(out, StorageKey{ID: id, Key: key})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("storage key file: no key")
	}
	return out, nil
}

// FormatStorageKeys writes keys as EnvStorageKeyFile holds them, the
// current key first.
func FormatStorageKeys(keys []StorageKey) string {
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", k.ID, base64.StdEncoding.EncodeToString(k.Key))
	}
	return b.String()
}
