package simulator

import (
	"context"
	"net/http"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/internal/family"
)

// world is everything Reset starts afresh: the token families, the clients,
// users, consents and sign-in sessions, the active faults, and the fosite instance composed
// on them. Reset builds a new world, filled as New filled the first, and
// puts it in place of the old one in one atomic step. A request works in
// the world that was current when it arrived, from its first lookup to its
// last write: it sees the state before a reset or the state after it,
// never one half emptied or half refilled.
type world struct {
	store    *family.Store
	clients  *registry
	users    *directory
	consents *consentBook
	sessions *sessionBook
	faults   *fault.Engine
	oauth    *fosite.Fosite
	strategy tokenStrategy
}

// newWorld builds a world with the configured clients, users and faults.
func (s *Simulator) newWorld() (*world, error) {
	if dup := repeatedIDs(s.cfg.clients, s.cfg.users); len(dup) > 0 {
		return nil, dup[0]
	}
	wd := &world{
		store: family.New(s.provider, s.events, s.cfg.profile),
		// Secrets expire on the provider's clock, skew included.
		clients: newRegistry(s.provider.Now, s.cfg.profile), users: newDirectory(), consents: newConsentBook(), sessions: newSessionBook(), faults: fault.NewEngine(),
	}
	// A client's own lifetimes govern its tokens (Client.AccessTokenLifetime, Client.Refresh).
	wd.store.SetClientPolicies(wd.clients.policyOf)
	for _, c := range append(DemoClients(), s.cfg.clients...) {
		if _, err := wd.clients.put(c, true); err != nil {
			return nil, err
		}
	}
	for _, u := range append(DemoUsers(), s.cfg.users...) {
		if err := wd.users.put(u, true); err != nil {
			return nil, err
		}
	}
	if err := s.loadFaults(wd.faults); err != nil {
		return nil, err
	}
	wd.oauth, wd.strategy = s.compose(wd)
	return wd, nil
}

// current is the world requests arriving now work in.
func (s *Simulator) current() *world { return s.state.Load() }

type worldKey struct{}

// pin has r work in the current world to the end (within reads it).
func (s *Simulator) pin(r *http.Request) *http.Request {
	return r.WithContext(withWorld(r.Context(), s.current()))
}

// withWorld returns a context whose requests work in wd.
func withWorld(ctx context.Context, wd *world) context.Context {
	return context.WithValue(ctx, worldKey{}, wd)
}

// within is the world of the request whose context ctx is: the one it was
// pinned to, else the current one.
func (s *Simulator) within(ctx context.Context) *world {
	if wd, ok := ctx.Value(worldKey{}).(*world); ok {
		return wd
	}
	return s.current()
}

// Reset drops every token, family, consent and event, restores the
// configured clients, users and faults (with their counts at zero), and
// records a reset event. The clock stays where it is. Requests under way
// finish in the state they started in; those that arrive after Reset
// returns find the new one.
func (s *Simulator) Reset() {
	wd, err := s.newWorld()
	if err != nil {
		// New built a world from the same configuration.
		s.cfg.logger.Error("reset: the configuration no longer loads", "error", err)
		return
	}
	s.events.Restart(events.Event{Kind: events.Reset})
	s.state.Store(wd)
}
