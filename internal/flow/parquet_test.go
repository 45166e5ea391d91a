package flow

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

// TestParquetMatchesCSV writes the same captures as CSV and as parquet and
// reads the parquet file back: same rows, same values, columns in order.
func TestParquetMatchesCSV(t *testing.T) {
	dir := testutil.SharedDir(t, "pcaps")
	files := []string{"zeek_http_bro.org.pcap", "zeek_var-services-std-ports.pcap", "gopacket_test301.pcapng"}
	run := func(format Format) []byte {
		var ins []Input
		for _, f := range files {
			fh, err := os.Open(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			ins = append(ins, Input{Name: f, R: fh})
		}
		o := DefaultOptions()
		o.Format = format
		o.Labeler = labelFunc(func(f *Flow) string { return f.Reason.String() })
		var buf bytes.Buffer
		if _, err := Extract(context.Background(), ins, &buf, o); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	recs, err := csv.NewReader(bytes.NewReader(run(CSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	pq := run(Parquet)
	f, err := parquet.OpenFile(bytes.NewReader(pq), int64(len(pq)))
	if err != nil {
		t.Fatal(err)
	}
	fields := f.Schema().Fields()
	if len(fields) != len(Columns) {
		t.Fatalf("%d parquet columns, want %d", len(fields), len(Columns))
	}
	for i, fl := range fields {
		if fl.Name() != Columns[i] {
			t.Fatalf("parquet column %d is %q, want %q", i, fl.Name(), Columns[i])
		}
	}
	r := parquet.NewGenericReader[parquetRow](bytes.NewReader(pq))
	rows := make([]parquetRow, len(recs))
	n, err := r.Read(rows)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if n != len(recs)-1 {
		t.Fatalf("parquet has %d rows, CSV %d", n, len(recs)-1)
	}
	for i := 0; i < n; i++ {
		row, rec := rows[i], recs[i+1]
		ts := time.UnixMicro(row.Timestamp).UTC().Format(TimeLayout)
		head := []string{row.FlowID, row.SrcIP, strconv.Itoa(int(row.SrcPort)), row.DstIP, strconv.Itoa(int(row.DstPort)), strconv.Itoa(int(row.Protocol)), ts}
		for j, h := range head {
			if h != rec[j] {
				t.Fatalf("row %d column %q: parquet %q, CSV %q", i+1, Columns[j], h, rec[j])
			}
		}
		vals := rowValues(&row)
		for j, v := range vals {
			if got := strconv.FormatFloat(v, 'f', -1, 64); got != rec[7+j] {
				t.Fatalf("row %d column %q: parquet %s, CSV %s", i+1, Columns[7+j], got, rec[7+j])
			}
		}
		if row.Label != rec[83] || row.Label == "" {
			t.Fatalf("row %d label %q, CSV %q", i+1, row.Label, rec[83])
		}
	}
}

type labelFunc func(*Flow) string

func (l labelFunc) Label(f *Flow) string { return l(f) }

// rowValues returns the 76 feature values of a parquet row in column order.
func rowValues(r *parquetRow) []float64 {
	return []float64{r.V00, r.V01, r.V02, r.V03, r.V04, r.V05, r.V06, r.V07, r.V08, r.V09, r.V10, r.V11, r.V12, r.V13, r.V14, r.V15, r.V16, r.V17, r.V18, r.V19, r.V20, r.V21, r.V22, r.V23, r.V24, r.V25, r.V26, r.V27, r.V28, r.V29, r.V30, r.V31, r.V32, r.V33, r.V34, r.V35, r.V36, r.V37, r.V38, r.V39, r.V40, r.V41, r.V42, r.V43, r.V44, r.V45, r.V46, r.V47, r.V48, r.V49, r.V50, r.V51, r.V52, r.V53, r.V54, r.V55, r.V56, r.V57, r.V58, r.V59, r.V60, r.V61, r.V62, r.V63, r.V64, r.V65, r.V66, r.V67, r.V68, r.V69, r.V70, r.V71, r.V72, r.V73, r.V74, r.V75}
}
