package family

import (
	"cmp"
	"slices"
	"time"
)

// expiredHorizon is how long after they expire a family still counts its
// access tokens among those that expired, not among those long gone: a
// clock moved back by less than this finds them live again, as their
// tokens are.
const expiredHorizon = time.Hour

// expiries counts a family's access tokens by the second they expire in,
// so that a family refreshed every millisecond for an hour keeps a count
// per second of an access token's lifetime, not a record per token. It is
// all Families needs: how many of them the resource would still accept.
type expiries struct {
	// buckets are ordered by sec.
	buckets []expiryBucket
	// never counts the tokens without an expiry.
	never int
}

type expiryBucket struct {
	sec int64 // the Unix second the bucket's tokens expire in
	n   int
	// last is the latest expiry in the bucket: once it has passed, every
	// token of the bucket has.
	last time.Time
}

// add counts a token expiring at (zero for never), and drops the buckets
// that expired more than expiredHorizon before now.
func (e *expiries) add(at, now time.Time) {
	gone := now.Add(-expiredHorizon)
	drop := 0
	for drop < len(e.buckets) && !e.buckets[drop].last.After(gone) {
		drop++
	}
	e.buckets = slices.Delete(e.buckets, 0, drop)
	if at.IsZero() {
		e.never++
		return
	}
	sec := at.Unix()
	i, found := slices.BinarySearchFunc(e.buckets, sec, func(b expiryBucket, sec int64) int { return cmp.Compare(b.sec, sec) })
	if !found {
		e.buckets = slices.Insert(e.buckets, i, expiryBucket{sec: sec})
	}
	b := &e.buckets[i]
	b.n++
	if at.After(b.last) {
		b.last = at
	}
}

// live counts the tokens that have not expired at now. A bucket whose
// tokens expire around now counts whole until its last one has expired.
func (e *expiries) live(now time.Time) int {
	n := e.never
	for _, b := range e.buckets {
		if b.last.After(now) {
			n += b.n
		}
	}
	return n
}
