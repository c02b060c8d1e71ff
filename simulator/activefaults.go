package simulator

import (
	"errors"
	"fmt"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
)

// Faults lists the active faults in the order they are tried, with how
// many requests each matched and fired on.
func (s *Simulator) Faults() []fault.Status { return s.current().faults.List() }

// Fault returns the active fault with id; ErrNotFound when there is none.
func (s *Simulator) Fault(id string) (fault.Status, error) {
	st, ok := s.current().faults.Get(id)
	if !ok {
		return fault.Status{}, missing("no fault %q", id)
	}
	return st, nil
}

// AddFault activates f after the faults already active and records a
// fault_added event. It returns the fault as stored: with its id, seed and
// window filled in. It fails with ErrConflict when f's id is active
// already.
func (s *Simulator) AddFault(f fault.Fault) (fault.Status, error) {
	faults := s.current().faults
	added, err := faults.Add(f, s.clock.Now())
	switch {
	case errors.Is(err, fault.ErrDuplicateID):
		return fault.Status{}, conflict(err)
	case err != nil:
		return fault.Status{}, fmt.Errorf("invalid fault: %w", err)
	}
	s.events.Emit(events.Event{Kind: events.FaultAdded, Fault: added.ID, Detail: string(added.Kind())})
	st, _ := faults.Get(added.ID)
	return st, nil
}

// RemoveFault deactivates the fault with id, records a fault_removed event
// and returns its final counts; ErrNotFound when no fault has that id.
func (s *Simulator) RemoveFault(id string) (fault.Status, error) {
	st, err := s.current().faults.Remove(id)
	if err != nil {
		return fault.Status{}, missing("no fault %q", id)
	}
	s.faultRemoved(st)
	return st, nil
}

// ClearFaults deactivates every fault, recording a fault_removed event for
// each, and returns how many there were.
func (s *Simulator) ClearFaults() int {
	all := s.current().faults.Clear()
	for _, st := range all {
		s.faultRemoved(st)
	}
	return len(all)
}

func (s *Simulator) faultRemoved(st fault.Status) {
	s.events.Emit(events.Event{Kind: events.FaultRemoved, Fault: st.ID, Detail: fmt.Sprintf("%s after %d firings", st.Kind(), st.Fired)})
}
