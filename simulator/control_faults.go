package simulator

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
)

// The control API's faults: the same JSON as a fault in a scenario file.
//
//	POST   /sim/v1/faults        add one; 201 with the fault as stored (id, seed, window)
//	GET    /sim/v1/faults        list, in the order they are tried, with counts
//	GET    /sim/v1/faults/{id}   one
//	DELETE /sim/v1/faults/{id}   remove one; 200 with its final counts
//	DELETE /sim/v1/faults        remove all

func (s *Simulator) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"faults": s.faults.List()})
}

func (s *Simulator) postFault(w http.ResponseWriter, r *http.Request) {
	var f fault.Fault
	if err := decodeBody(r, &f); err != nil {
		badRequest(w, err)
		return
	}
	added, err := s.faults.Add(f, s.clock.Now())
	switch {
	case errors.Is(err, fault.ErrDuplicateID):
		writeJSONError(w, http.StatusConflict, "conflict", err.Error())
		return
	case err != nil:
		badRequest(w, fmt.Errorf("invalid fault: %w", err))
		return
	}
	s.events.Emit(events.Event{Kind: events.FaultAdded, Fault: added.ID, Detail: string(added.Kind())})
	st, _ := s.faults.Get(added.ID)
	writeJSON(w, http.StatusCreated, st)
}

func (s *Simulator) getFault(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	st, ok := s.faults.Get(id)
	if !ok {
		notFound(w, "no fault %q", id)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Simulator) deleteFault(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	st, err := s.faults.Remove(id)
	if err != nil {
		notFound(w, "no fault %q", id)
		return
	}
	s.events.Emit(events.Event{Kind: events.FaultRemoved, Fault: id, Detail: fmt.Sprintf("%s after %d firings", st.Kind(), st.Fired)})
	writeJSON(w, http.StatusOK, st)
}

func (s *Simulator) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	all := s.faults.Clear()
	for _, st := range all {
		s.events.Emit(events.Event{Kind: events.FaultRemoved, Fault: st.ID, Detail: fmt.Sprintf("%s after %d firings", st.Kind(), st.Fired)})
	}
	writeJSON(w, http.StatusOK, map[string]int{"removed": len(all)})
}
