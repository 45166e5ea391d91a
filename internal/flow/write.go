package flow

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Format is an output format.
type Format int

// Output formats.
const (
	CSV Format = iota
	JSONL
	Parquet
)

// ParseFormat maps a --format value to a Format.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "csv", "":
		return CSV, nil
	case "jsonl", "ndjson":
		return JSONL, nil
	case "parquet":
		return Parquet, nil
	}
	return 0, fmt.Errorf("unknown format %q (want csv, jsonl or parquet)", s)
}

// Columns are the CICFlowMeter (Java, master) column names in output order.
var Columns = [...]string{
	"Flow ID", "Src IP", "Src Port", "Dst IP", "Dst Port", "Protocol", "Timestamp", "Flow Duration",
	"Total Fwd Packet", "Total Bwd packets", "Total Length of Fwd Packet", "Total Length of Bwd Packet",
	"Fwd Packet Length Max", "Fwd Packet Length Min", "Fwd Packet Length Mean", "Fwd Packet Length Std",
	"Bwd Packet Length Max", "Bwd Packet Length Min", "Bwd Packet Length Mean", "Bwd Packet Length Std",
	"Flow Bytes/s", "Flow Packets/s", "Flow IAT Mean", "Flow IAT Std", "Flow IAT Max", "Flow IAT Min",
	"Fwd IAT Total", "Fwd IAT Mean", "Fwd IAT Std", "Fwd IAT Max", "Fwd IAT Min",
	"Bwd IAT Total", "Bwd IAT Mean", "Bwd IAT Std", "Bwd IAT Max", "Bwd IAT Min",
	"Fwd PSH Flags", "Bwd PSH Flags", "Fwd URG Flags", "Bwd URG Flags",
	"Fwd Header Length", "Bwd Header Length", "Fwd Packets/s", "Bwd Packets/s",
	"Packet Length Min", "Packet Length Max", "Packet Length Mean", "Packet Length Std", "Packet Length Variance",
	"FIN Flag Count", "SYN Flag Count", "RST Flag Count", "PSH Flag Count", "ACK Flag Count", "URG Flag Count",
	"CWR Flag Count", "ECE Flag Count", "Down/Up Ratio", "Average Packet Size",
	"Fwd Segment Size Avg", "Bwd Segment Size Avg",
	"Fwd Bytes/Bulk Avg", "Fwd Packet/Bulk Avg", "Fwd Bulk Rate Avg",
	"Bwd Bytes/Bulk Avg", "Bwd Packet/Bulk Avg", "Bwd Bulk Rate Avg",
	"Subflow Fwd Packets", "Subflow Fwd Bytes", "Subflow Bwd Packets", "Subflow Bwd Bytes",
	"FWD Init Win Bytes", "Bwd Init Win Bytes", "Fwd Act Data Pkts", "Fwd Seg Size Min",
	"Active Mean", "Active Std", "Active Max", "Active Min",
	"Idle Mean", "Idle Std", "Idle Max", "Idle Min", "Label",
}

// TimeLayout is the layout of the Timestamp column (UTC, microseconds).
const TimeLayout = "2006-01-02T15:04:05.000000Z"

type writer struct {
	bw      *bufio.Writer
	format  Format
	labeler Labeler
	buf     []byte
	vals    [NumValues]float64
	n       int64
	by      [4]int64
	err     error
	jsonKey [len(Columns)][]byte
	pq      *parquetOut
}

func newWriter(w io.Writer, o *Options) *writer {
	wr := &writer{bw: bufio.NewWriterSize(w, 256<<10), format: o.Format, labeler: o.Labeler, buf: make([]byte, 0, 4096)}
	for i, c := range Columns {
		k, _ := json.Marshal(c)
		wr.jsonKey[i] = append(k, ':')
	}
	if o.Format == Parquet {
		wr.pq = newParquetOut(wr)
	}
	return wr
}

func (w *writer) header() error {
	if w.format != CSV {
		return nil
	}
	_, err := w.bw.WriteString(strings.Join(Columns[:], ",") + "\n")
	return err
}

func (w *writer) flush() error {
	if w.pq != nil {
		if err := w.pq.close(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}

func (w *writer) writeAll(fs []*Flow) {
	for _, f := range fs {
		w.write(f)
	}
}

func (w *writer) write(f *Flow) {
	if w.err != nil {
		return
	}
	w.n++
	w.by[f.Reason]++
	label := ""
	if w.labeler != nil {
		label = w.labeler.Label(f)
	}
	b := w.buf[:0]
	col := 0
	sep := func() {
		if w.format == JSONL {
			if col == 0 {
				b = append(b, '{')
			} else {
				b = append(b, ',')
			}
			b = append(b, w.jsonKey[col]...)
		} else if col > 0 {
			b = append(b, ',')
		}
		col++
	}
	q := w.format == JSONL
	str := func(s []byte) { // s never needs escaping
		sep()
		if q {
			b = append(b, '"')
		}
		b = append(b, s...)
		if q {
			b = append(b, '"')
		}
	}
	src, dst := f.Src(), f.Dst()
	// Flow ID
	var id [128]byte
	ib := src.AppendTo(id[:0])
	ib = append(ib, '-')
	ib = dst.AppendTo(ib)
	ib = append(ib, '-')
	ib = strconv.AppendUint(ib, uint64(f.SrcPort), 10)
	ib = append(ib, '-')
	ib = strconv.AppendUint(ib, uint64(f.DstPort), 10)
	ib = append(ib, '-')
	ib = strconv.AppendUint(ib, uint64(f.Proto), 10)
	if w.pq != nil {
		f.Values(&w.vals)
		if err := w.pq.add(f, &w.vals, string(ib), label); err != nil {
			w.err = err
		}
		return
	}
	str(ib)
	str(src.AppendTo(id[:0]))
	sep()
	b = strconv.AppendUint(b, uint64(f.SrcPort), 10)
	str(dst.AppendTo(id[:0]))
	sep()
	b = strconv.AppendUint(b, uint64(f.DstPort), 10)
	sep()
	b = strconv.AppendUint(b, uint64(f.Proto), 10)
	str(time.Unix(0, f.Start).UTC().AppendFormat(id[:0], TimeLayout))
	f.Values(&w.vals)
	for _, v := range w.vals {
		sep()
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	sep()
	switch {
	case q:
		lb, _ := json.Marshal(label)
		b = append(b, lb...)
		b = append(b, '}')
	case strings.ContainsAny(label, ",\"\r\n"):
		b = append(b, '"')
		b = append(b, strings.ReplaceAll(label, `"`, `""`)...)
		b = append(b, '"')
	default:
		b = append(b, label...)
	}
	b = append(b, '\n')
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("writing flows: %w", err)
	}
}
