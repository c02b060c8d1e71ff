//go:build !unix

package reports

// hold does not lock where flock is not: two oauthsim runs writing into
// one directory at once may then mix their sets.
func hold(string) (func(), error) { return func() {}, nil }

// abandoned cannot tell, without flock, a staging directory whose writer
// was killed from one still being written: it keeps them all.
func abandoned(string) (func(), bool) { return nil, false }
