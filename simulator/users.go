package simulator

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/oauthsim/oauthsim/simulator/events"
)

// User is a resource owner who can sign in at the authorization endpoint.
// ID is the subject (`sub`) of the user's tokens.
type User struct {
	ID    string `json:"id" yaml:"id" example:"carol"`
	Name  string `json:"name,omitempty" yaml:"name,omitempty"`
	Email string `json:"email,omitempty" yaml:"email,omitempty"`
}

// DemoUsers are present in every simulator.
func DemoUsers() []User {
	return []User{
		{ID: "alice", Name: "Alice Example", Email: "alice@example.test"},
		{ID: "bob", Name: "Bob Example", Email: "bob@example.test"},
	}
}

func (u User) validate() error {
	if u.ID == "" {
		return errors.New("user id is required")
	}
	return nil
}

type directory struct {
	mu    sync.RWMutex
	users map[string]User
}

func newDirectory() *directory { return &directory{users: map[string]User{}} }

// put adds u, replacing a user with its id only when replace is set:
// otherwise a taken id is a conflict, found before any problem of u's own.
func (d *directory) put(u User, replace bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, taken := d.users[u.ID]; taken && !replace {
		return conflict(fmt.Errorf("user %q exists", u.ID))
	}
	if err := u.validate(); err != nil {
		return fmt.Errorf("user %q: %w", u.ID, err)
	}
	d.users[u.ID] = u
	return nil
}

func (d *directory) get(id string) (User, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	u, ok := d.users[id]
	return u, ok
}

func (d *directory) list() []User {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]User, 0, len(d.users))
	for _, u := range d.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Users lists the users by id.
func (s *Simulator) Users() []User { return s.current().users.list() }

// AddUser adds u, who can then sign in, and records a user_changed event.
// It fails with ErrConflict when u's id is taken.
func (s *Simulator) AddUser(u User) (User, error) {
	if err := s.current().users.put(u, false); err != nil {
		return User{}, err
	}
	s.events.Emit(events.Event{Kind: events.UserChanged, User: u.ID, Detail: "created"})
	return u, nil
}
