package simulator

import (
	"net/http"

	"github.com/gorilla/mux"

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
	writeJSON(w, http.StatusOK, map[string]any{"faults": s.Faults()})
}

func (s *Simulator) postFault(w http.ResponseWriter, r *http.Request) {
	var f fault.Fault
	if err := decodeBody(r, &f); err != nil {
		badRequest(w, err)
		return
	}
	st, err := s.AddFault(f)
	answer(w, st, err, http.StatusCreated)
}

func (s *Simulator) getFault(w http.ResponseWriter, r *http.Request) {
	st, err := s.Fault(mux.Vars(r)["id"])
	answer(w, st, err, http.StatusOK)
}

func (s *Simulator) deleteFault(w http.ResponseWriter, r *http.Request) {
	st, err := s.RemoveFault(mux.Vars(r)["id"])
	answer(w, st, err, http.StatusOK)
}

func (s *Simulator) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int{"removed": s.ClearFaults()})
}
