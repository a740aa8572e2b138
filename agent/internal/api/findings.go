package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/asyncmon/asyncmon/agent/capture"
	"github.com/asyncmon/asyncmon/model"
)

// handleFindings serves the findings: firing and pending ones first (most
// severe first), then recently resolved ones, newest first.
//
//	state     firing, pending, resolved or active (firing and pending).
//	          Optional: all.
//	detector  only this detector's findings. Optional.
func (a *API) handleFindings(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r, "state", "detector"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	state, detector := q.Get("state"), q.Get("detector")
	switch state {
	case "", "active", string(model.StateFiring), string(model.StatePending), string(model.StateResolved):
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("state: want firing, pending, resolved or active, got %q", state))
		return
	}
	if detector != "" && a.detectors != nil {
		names := a.detectors()
		if !slices.Contains(names, detector) {
			slices.Sort(names)
			writeError(w, http.StatusBadRequest, fmt.Sprintf("detector: no detector %q runs here (running: %s)", detector, strings.Join(names, ", ")))
			return
		}
	}
	out := []model.Finding{}
	for _, f := range a.src.Findings() {
		if detector != "" && f.Detector != detector {
			continue
		}
		switch {
		case state == "active" && f.State == model.StateResolved:
			continue
		case state != "" && state != "active" && string(f.State) != state:
			continue
		}
		out = append(out, f)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleCaptures lists the evidence captures, newest first.
func (a *API) handleCaptures(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := []model.Capture{}
	if a.captures != nil {
		out = a.captures.List()
	}
	writeJSON(w, http.StatusOK, out)
}

// handleCapture downloads one capture: a gzipped pprof profile, a text
// goroutine dump, or a runtime/trace file.
func (a *API) handleCapture(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if a.captures == nil {
		writeError(w, http.StatusNotFound, "evidence capture is disabled")
		return
	}
	if !a.guard.acquire(w) {
		return
	}
	defer a.guard.release()
	cp, f, err := a.captures.Open(id)
	if errors.Is(err, os.ErrNotExist) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no capture %q", id))
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer f.Close()
	ctype := "application/octet-stream"
	if cp.Format == "text" {
		ctype = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", capture.FileName(cp)))
	w.Header().Set("Content-Length", strconv.FormatInt(cp.Bytes, 10))
	extendDeadline(w, a.writeTimeout) // a capture is up to MaxBytes long
	_, _ = io.Copy(w, f)              // the client went away; nothing to tell
}
