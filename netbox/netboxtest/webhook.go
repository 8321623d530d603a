package netboxtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Delivery is one webhook the fake sent.
type Delivery struct {
	Event      string // "created", "updated" or "deleted"
	ObjectType string // "dcim.device" or "virtualization.virtualmachine"
	ID         int64  // the object's id
	Body       []byte // the exact body sent (and signed)
	Signature  string // the X-Hook-Signature header; empty without a secret
	Status     int    // the receiver's HTTP status; 0 when the request failed
	Err        error  // the transport error, if any
}

// hookEvent is a change to deliver once the data lock is released.
type hookEvent struct {
	event string
	vm    bool
	obj   *object
	pre   []byte // prechange snapshot; nil for "created"
	data  []byte // data rendered before a delete
}

// SignWebhook returns the X-Hook-Signature NetBox sends for body: the hex
// HMAC-SHA512 of the body keyed with secret.
func SignWebhook(secret string, body []byte) string {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// SetWebhook sets (or, with an empty url, clears) the webhook receiver, a
// loopback URL, and its secret.
func (h *Handler) SetWebhook(url, secret string) error {
	if url != "" {
		if err := checkLoopback(url); err != nil {
			return err
		}
	}
	h.ctl.Lock()
	defer h.ctl.Unlock()
	h.hookURL, h.hookKey = url, secret
	return nil
}

// Deliveries returns the webhooks sent so far, oldest first.
func (h *Handler) Deliveries() []Delivery {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	return append([]Delivery(nil), h.hooks...)
}

// mutate runs fn under the data lock, then delivers the webhook it asks
// for (outside the lock, so a receiver may call back into the fake). The
// mutation returns after the receiver answered.
func (h *Handler) mutate(fn func() (*hookEvent, error)) error {
	return h.mutateAll(func() ([]*hookEvent, error) {
		ev, err := fn()
		if ev == nil {
			return nil, err
		}
		return []*hookEvent{ev}, err
	})
}

// mutateAll is mutate for a change of several objects, which sends one
// webhook per object in order.
func (h *Handler) mutateAll(fn func() ([]*hookEvent, error)) error {
	h.ctl.Lock()
	url, secret := h.hookURL, h.hookKey
	h.ctl.Unlock()
	h.mu.Lock()
	evs, err := fn()
	var ds []Delivery
	if err == nil && url != "" {
		for _, ev := range evs {
			ds = append(ds, h.webhook(ev, secret))
		}
	}
	h.mu.Unlock()
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.Body != nil {
			h.deliver(url, d)
		}
	}
	return nil
}

func (h *Handler) deliver(url string, d Delivery) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.Body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "python-requests/2.32.3")
		if d.Signature != "" {
			req.Header.Set("X-Hook-Signature", d.Signature)
		}
		var resp *http.Response
		if resp, err = h.cfg.hookClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			d.Status = resp.StatusCode
		}
	}
	d.Err = err
	h.ctl.Lock()
	h.hooks = append(h.hooks, d)
	h.ctl.Unlock()
}

// webhook renders the NetBox 4.x event-rule body for ev.
func (h *Handler) webhook(ev *hookEvent, secret string) Delivery {
	model, objType := "device", "dcim.device"
	if ev.vm {
		model, objType = "virtualmachine", "virtualization.virtualmachine"
	}
	data := ev.data
	if data == nil {
		data = h.hookData(ev.obj, ev.vm)
	}
	var post []byte
	if ev.event != "deleted" {
		post = h.snapshot(ev.obj, ev.vm)
	}
	reqID := newUUID()
	e := &enc{}
	e.open()
	e.k("event")
	e.str(ev.event)
	e.k("timestamp")
	e.str(h.cfg.now().UTC().Format("2006-01-02T15:04:05.000000") + "+00:00")
	if h.since(4, 4) {
		e.k("object_type")
		e.str(objType)
	}
	if !h.since(4, 5) {
		e.k("model")
		e.str(model)
	}
	e.k("username")
	e.str("admin")
	e.k("request_id")
	e.str(reqID)
	if h.since(4, 6) {
		path := pDevices
		if ev.vm {
			path = pVMs
		}
		method := map[string]string{"created": "POST", "updated": "PATCH", "deleted": "DELETE"}[ev.event]
		e.k("request")
		e.open()
		e.k("id")
		e.str(reqID)
		e.k("method")
		e.str(method)
		e.k("path")
		if ev.event == "created" {
			e.str(path)
		} else {
			e.url("", path, ev.obj.id)
		}
		e.k("user")
		e.str("admin")
		e.close()
	}
	e.k("data")
	e.raw(string(data))
	e.k("snapshots")
	e.open()
	e.k("prechange")
	rawOrNull(e, ev.pre)
	e.k("postchange")
	rawOrNull(e, post)
	e.close()
	e.close()
	d := Delivery{Event: ev.event, ObjectType: objType, ID: ev.obj.id, Body: e.b}
	if secret != "" {
		d.Signature = SignWebhook(secret, e.b)
	}
	return d
}

func rawOrNull(e *enc, b []byte) {
	if b == nil {
		e.null()
		return
	}
	e.raw(string(b))
}

// hookData is the object as a webhook's "data": the API serializer's
// output with relative URLs and without config_context.
func (h *Handler) hookData(o *object, vm bool) []byte {
	e := &enc{}
	if vm {
		h.vm(e, view{}, o)
	} else {
		h.device(e, view{}, o)
	}
	return e.b
}

// snapshot renders Django's model serialization of o, as in webhook
// snapshots: foreign keys as ids, choices as raw values, decimals as
// strings, millisecond timestamps, tags as sorted names, no id.
func (h *Handler) snapshot(o *object, vm bool) []byte {
	e := &enc{}
	ms := func(us int64) {
		e.str(time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	fk := func(id int64) {
		if id == 0 {
			e.null()
		} else {
			e.int(id)
		}
	}
	e.open()
	e.k("created")
	ms(o.created)
	e.k("last_updated")
	ms(o.updated)
	e.k("custom_fields")
	h.customFields(e, o.cf, vm)
	e.k("description")
	e.str(o.description)
	e.k("comments")
	e.str(o.comments)
	e.k("local_context_data")
	e.null()
	e.k("config_template")
	e.null()
	if !vm {
		e.k("device_type")
		fk(o.devType)
	}
	e.k("role")
	fk(o.role)
	e.k("tenant")
	fk(o.tenant)
	e.k("platform")
	fk(o.platform)
	e.k("name")
	e.nstr(o.name)
	e.k("serial")
	e.str(o.serial)
	e.k("site")
	fk(o.site)
	if vm {
		e.k("cluster")
		fk(o.cluster)
		e.k("device")
		e.null()
		e.k("status")
		e.str(o.status)
		e.k("primary_ip4")
		fk(o.ip4)
		e.k("primary_ip6")
		fk(o.ip6)
		e.k("vcpus")
		e.str(strconv.FormatFloat(o.vcpus, 'f', 2, 64))
		e.k("memory")
		e.int(o.memory)
		e.k("disk")
		e.int(o.disk)
		e.k("interface_count")
		e.int(int64(len(h.ifaces.index().post[ikey{f: fOwner, v: o.id, s: "v"}])))
		e.k("virtual_disk_count")
		e.int(0)
	} else {
		e.k("asset_tag")
		e.nstr(o.assetTag)
		e.k("location")
		fk(o.location)
		e.k("rack")
		fk(o.rack)
		e.k("position")
		if o.position > 0 {
			e.str(strconv.FormatFloat(o.position, 'f', 1, 64))
		} else {
			e.null()
		}
		e.k("face")
		if o.rack != 0 && o.position > 0 {
			e.str("front")
		} else {
			e.null()
		}
		e.k("status")
		e.str(o.status)
		e.k("airflow")
		e.nstr(get(h.cat.deviceTypes, o.devType).extra)
		e.k("primary_ip4")
		fk(o.ip4)
		e.k("primary_ip6")
		fk(o.ip6)
		e.k("oob_ip")
		fk(o.oob)
		e.k("cluster")
		fk(o.cluster)
		for _, k := range []string{"virtual_chassis", "vc_position", "vc_priority", "latitude", "longitude"} {
			e.k(k)
			e.null()
		}
		for _, c := range h.objectCounts(o, false) {
			e.k(c.key)
			e.int(c.n)
		}
	}
	e.k("tags")
	names := make([]string, 0, len(o.tags))
	for _, t := range o.tags {
		names = append(names, get(h.cat.tags, t).name)
	}
	slices.Sort(names)
	e.any(names)
	e.close()
	return e.b
}
