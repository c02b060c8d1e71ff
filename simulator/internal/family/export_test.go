package family

// Kept counts the records the store keeps for family id: its refresh
// tokens whose state still matters, and the access-token expiry buckets.
func (s *Store) Kept(id string) (refresh, accessBuckets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.families[id]
	return len(f.refresh), len(f.access.buckets)
}

// KeyHoldsClaims reports whether key holds claims the store reads.
func KeyHoldsClaims(key string) bool {
	_, ok := parseKey(key)
	return ok
}
