package netbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	gonetbox "github.com/netbox-community/go-netbox/v4"

	"github.com/wugsync/wugsync/internal/httpx"
)

// Journal entry levels (NetBox's journal entry "kind").
const (
	JournalInfo    = "info"
	JournalSuccess = "success"
	JournalWarning = "warning"
	JournalDanger  = "danger"
)

// JournalEntry is a note to add to a device's or virtual machine's NetBox
// journal.
type JournalEntry struct {
	ObjectRef
	Level    string // JournalInfo (when empty), JournalSuccess, JournalWarning or JournalDanger
	Comments string // Markdown
}

// AddedToWUG is the journal entry recording that obj was added to WUG as
// device wugID, linked at wugURL (may be empty).
func AddedToWUG(obj ObjectRef, wugID int64, wugURL string) JournalEntry {
	text := "Added to WhatsUp Gold as device " + strconv.FormatInt(wugID, 10)
	if wugURL != "" {
		text = "Added to WhatsUp Gold as device [" + strconv.FormatInt(wugID, 10) + "](" + wugURL + ")"
	}
	return JournalEntry{ObjectRef: obj, Level: JournalSuccess, Comments: text + " by wugsync."}
}

// RemovedFromWUG is the journal entry recording that obj's WUG device
// wugID was removed from WUG (or no longer follows the object), and why.
func RemovedFromWUG(obj ObjectRef, wugID int64, reason string) JournalEntry {
	text := "Removed from WhatsUp Gold (device " + strconv.FormatInt(wugID, 10) + ") by wugsync"
	if reason = strings.TrimSpace(reason); reason != "" {
		text += ": " + reason
	}
	return JournalEntry{ObjectRef: obj, Level: JournalWarning, Comments: text + "."}
}

func (e *JournalEntry) model() (*gonetbox.WritableJournalEntryRequest, error) {
	if err := checkRef(e.ObjectRef); err != nil {
		return nil, err
	}
	if strings.TrimSpace(e.Comments) == "" {
		return nil, errors.New("journal entry without comments")
	}
	level := e.Level
	if level == "" {
		level = JournalInfo
	}
	kind, err := gonetbox.NewJournalEntryKindValueFromValue(level)
	if err != nil {
		return nil, fmt.Errorf("journal entry level: %w", err)
	}
	m := gonetbox.NewWritableJournalEntryRequest(e.Kind.objectType(), e.ID, e.Comments)
	m.Kind = kind
	return m, nil
}

// AddJournalEntries adds entries to NetBox's journal with POST
// /api/extras/journal-entries/ and a list body (NetBox's bulk create),
// pageSize entries per request (DefaultWritePageSize when 0): ⌈entries /
// pageSize⌉ requests. Bodies are go-netbox's WritableJournalEntryRequest.
//
// Each request creates, so it is never repeated blind: a request whose
// answer is lost fails its entries, which may or may not exist. A request
// NetBox refuses (400) fails its entries and the others go on; any other
// failure stops the rest. Written lists the objects journaled.
//
// The token needs extras.add_journalentry (with view permission on the
// objects) and write access.
func (c *Client) AddJournalEntries(ctx context.Context, entries []JournalEntry, pageSize int) (WriteResult, error) {
	const op = "add journal entries"
	var res WriteResult
	pageSize, err := writePageSize(pageSize)
	if err != nil {
		return res, fmt.Errorf("netbox: %s: %w", op, err)
	}
	type item struct {
		ref   ObjectRef
		model *gonetbox.WritableJournalEntryRequest
	}
	var ok []item
	for _, e := range entries {
		m, err := e.model()
		if err != nil {
			res.Failed = append(res.Failed, WriteFailure{Kind: e.Kind, IDs: []int64{e.ID}, Err: err})
			continue
		}
		ok = append(ok, item{e.ObjectRef, m})
	}
	pages(ok, pageSize, func(page []item) bool {
		body := make([]*gonetbox.WritableJournalEntryRequest, len(page))
		for i, it := range page {
			body[i] = it.model
		}
		res.Requests++
		err := c.journalPage(ctx, op, body)
		if err != nil {
			for _, group := range byKind(page, func(it item) Kind { return it.ref.Kind }) {
				if len(group) > 0 {
					ids := make([]int64, len(group))
					for i, it := range group {
						ids[i] = it.ref.ID
					}
					res.Failed = append(res.Failed, WriteFailure{Kind: group[0].ref.Kind, IDs: ids, Err: err})
				}
			}
			return !stopsRun(err)
		}
		for _, it := range page {
			res.Written = append(res.Written, it.ref)
		}
		return true
	})
	return res, res.err(op)
}

// journalPage sends one bulk create and checks NetBox answered with one
// entry per request item, on the same objects, in order.
func (c *Client) journalPage(ctx context.Context, op string, body []*gonetbox.WritableJournalEntryRequest) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding the request: %w", err)
	}
	ans, err := c.send(ctx, op, http.MethodPost, "/api/extras/journal-entries/", b, httpx.RepeatNever)
	if err != nil {
		return err
	}
	var made []struct {
		Type string `json:"assigned_object_type"`
		ID   int64  `json:"assigned_object_id"`
	}
	if err := json.Unmarshal(ans, &made); err != nil {
		return fmt.Errorf("netbox: %s: answer is not a list of journal entries: %w", op, err)
	}
	if len(made) != len(body) {
		return fmt.Errorf("netbox: %s: NetBox answered %d entries for %d sent", op, len(made), len(body))
	}
	for i, m := range made {
		if m.Type != body[i].AssignedObjectType || m.ID != body[i].AssignedObjectId {
			return fmt.Errorf("netbox: %s: answer entry %d is on %s %d, not %s %d", op, i, m.Type, m.ID,
				body[i].AssignedObjectType, body[i].AssignedObjectId)
		}
	}
	return nil
}
