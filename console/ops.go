package console

import (
	"net/http"
	"time"

	"github.com/swfd/swfd/inspect"
)

type taskListsData struct {
	Lists []inspect.TaskList
	// Now is swfd's time (tasks are scheduled by it), Wall the machine's
	// (polls are seen by it; the two differ under a manual clock).
	Now, Wall time.Time
}

// taskListsPage shows a domain's task lists in use: pending tasks, the
// oldest one's age, pollers waiting and pollers seen lately.
func (h *Handler) taskListsPage(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	lists, err := h.insp.TaskLists(r.Context(), domain)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "tasklists", &page{Title: "Task lists · " + domain, Domain: domain, Tab: "tasklists",
		Data: &taskListsData{Lists: lists, Now: h.now(), Wall: time.Now()}})
}

// attentionPage shows the open executions that need attention.
func (h *Handler) attentionPage(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	a, err := h.insp.Attention(r.Context(), domain)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "attention", &page{Title: "Needs attention · " + domain, Domain: domain, Tab: "attention", Data: a})
}
