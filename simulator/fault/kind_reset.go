package fault

// Reset closes the connection without a response.
const Reset Kind = "reset"

// ResetEffect is a reset fault; it takes no parameters.
type ResetEffect struct{}

// Kind implements Effect.
func (ResetEffect) Kind() Kind { return Reset }

func (ResetEffect) validate(*Match, badFunc) {}

// Answer closes the connection.
func (ResetEffect) Answer(x Exchange) string {
	x.Close()
	return "closed the connection without an answer"
}
