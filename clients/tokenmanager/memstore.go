package tokenmanager

import (
	"context"
	"sync"
)

// MemoryStore is a Store that lives in one process's memory: tokens do not
// survive a restart, and its lock excludes only holders of the same
// MemoryStore. It suits tests and processes that authorize at every start.
type MemoryStore struct {
	mu     sync.Mutex
	tokens map[string]Token
	// locks holds a 1-buffered channel per key: sending takes the lock,
	// receiving releases it, and a send can wait in a select on ctx, which
	// a sync.Mutex cannot.
	locks map[string]chan struct{}
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{tokens: map[string]Token{}, locks: map[string]chan struct{}{}}
}

// Load returns the token under key, or ErrNoToken.
func (s *MemoryStore) Load(_ context.Context, key string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[key]
	if !ok {
		return Token{}, ErrNoToken
	}
	return t, nil
}

// Save replaces the token under key.
func (s *MemoryStore) Save(_ context.Context, key string, t Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[key] = t
	return nil
}

// Delete forgets the token under key.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, key)
	return nil
}

// Lock takes the refresh lock for key, waiting until it is free or ctx ends.
// Calling the returned unlock more than once is harmless.
func (s *MemoryStore) Lock(ctx context.Context, key string) (func(), error) {
	// A ctx that has already ended must fail even when the lock is free:
	// select would otherwise pick at random between the two.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	held, ok := s.locks[key]
	if !ok {
		held = make(chan struct{}, 1)
		s.locks[key] = held
	}
	s.mu.Unlock()
	select {
	case held <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-held }) }, nil
}
