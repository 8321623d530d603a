package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/memory"
)

// BenchmarkIPExportsPage lists one page of export records from a store of
// 10,000; the count NetBox's envelope carries costs a pass over every
// record the filters select.
func BenchmarkIPExportsPage(b *testing.B) {
	const n = 10_000
	st := memory.New()
	defer st.Close()
	recs := make([]store.Record, n)
	for i := range recs {
		recs[i] = store.Record{Key: store.Key{Connection: "main", Address: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})},
			ObjectKind: store.ObjectDevice, ObjectID: int64(i + 1), Status: store.StatusExported, WUGDeviceID: fmt.Sprint(i)}
	}
	if err := st.UpsertRecords(context.Background(), recs); err != nil {
		b.Fatal(err)
	}
	cfg, err := ParseConfig([]byte(configText("http://127.0.0.1:1", "http://127.0.0.1:2", "")), fixtureEnv())
	if err != nil {
		b.Fatal(err)
	}
	svc, err := newService(cfg, st, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	h := svc.handler()
	req := httptest.NewRequest("GET", ipExportsPath+"?connection=main&limit=50&offset=5000", nil)
	req.Header.Set("Authorization", "Token "+testToken)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		_, _ = io.Copy(io.Discard, w.Body)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records_scanned/s")
}
