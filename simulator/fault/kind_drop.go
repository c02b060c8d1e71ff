package fault

import "fmt"

// DropAfterCommit serves the request, so a refresh rotates, and then closes
// the connection: the client never learns the new refresh token.
const DropAfterCommit Kind = "drop_after_commit"

// DropAfterCommitEffect is a drop_after_commit fault; it takes no parameters.
type DropAfterCommitEffect struct{}

// Kind implements Effect.
func (DropAfterCommitEffect) Kind() Kind { return DropAfterCommit }

func (DropAfterCommitEffect) validate(*Match, badFunc) {}

// Spoil drops the answer.
func (DropAfterCommitEffect) Spoil(x Exchange, a Held) string {
	x.Close()
	return fmt.Sprintf("the provider answered %d; the answer was dropped and the connection closed", a.Status)
}

// LosesAnswer implements Spoiler.
func (DropAfterCommitEffect) LosesAnswer() bool { return true }
