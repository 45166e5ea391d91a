package flow

// Code in this file writes --format parquet rows.

import (
	"fmt"

	"github.com/parquet-go/parquet-go"
)

// parquetRow is one flow in a parquet file: the 84 CICFlowMeter columns in
// order. Timestamp is a parquet TIMESTAMP(MICROS, UTC); the 76 features are
// DOUBLE; ports and protocol INT32.
type parquetRow struct {
	FlowID    string  `parquet:"Flow ID"`
	SrcIP     string  `parquet:"Src IP"`
	SrcPort   int32   `parquet:"Src Port"`
	DstIP     string  `parquet:"Dst IP"`
	DstPort   int32   `parquet:"Dst Port"`
	Protocol  int32   `parquet:"Protocol"`
	Timestamp int64   `parquet:"Timestamp,timestamp(microsecond)"`
	V00       float64 `parquet:"Flow Duration"`
	V01       float64 `parquet:"Total Fwd Packet"`
	V02       float64 `parquet:"Total Bwd packets"`
	V03       float64 `parquet:"Total Length of Fwd Packet"`
	V04       float64 `parquet:"Total Length of Bwd Packet"`
	V05       float64 `parquet:"Fwd Packet Length Max"`
	V06       float64 `parquet:"Fwd Packet Length Min"`
	V07       float64 `parquet:"Fwd Packet Length Mean"`
	V08       float64 `parquet:"Fwd Packet Length Std"`
	V09       float64 `parquet:"Bwd Packet Length Max"`
	V10       float64 `parquet:"Bwd Packet Length Min"`
	V11       float64 `parquet:"Bwd Packet Length Mean"`
	V12       float64 `parquet:"Bwd Packet Length Std"`
	V13       float64 `parquet:"Flow Bytes/s"`
	V14       float64 `parquet:"Flow Packets/s"`
	V15       float64 `parquet:"Flow IAT Mean"`
	V16       float64 `parquet:"Flow IAT Std"`
	V17       float64 `parquet:"Flow IAT Max"`
	V18       float64 `parquet:"Flow IAT Min"`
	V19       float64 `parquet:"Fwd IAT Total"`
	V20       float64 `parquet:"Fwd IAT Mean"`
	V21       float64 `parquet:"Fwd IAT Std"`
	V22       float64 `parquet:"Fwd IAT Max"`
	V23       float64 `parquet:"Fwd IAT Min"`
	V24       float64 `parquet:"Bwd IAT Total"`
	V25       float64 `parquet:"Bwd IAT Mean"`
	V26       float64 `parquet:"Bwd IAT Std"`
	V27       float64 `parquet:"Bwd IAT Max"`
	V28       float64 `parquet:"Bwd IAT Min"`
	V29       float64 `parquet:"Fwd PSH Flags"`
	V30       float64 `parquet:"Bwd PSH Flags"`
	V31       float64 `parquet:"Fwd URG Flags"`
	V32       float64 `parquet:"Bwd URG Flags"`
	V33       float64 `parquet:"Fwd Header Length"`
	V34       float64 `parquet:"Bwd Header Length"`
	V35       float64 `parquet:"Fwd Packets/s"`
	V36       float64 `parquet:"Bwd Packets/s"`
	V37       float64 `parquet:"Packet Length Min"`
	V38       float64 `parquet:"Packet Length Max"`
	V39       float64 `parquet:"Packet Length Mean"`
	V40       float64 `parquet:"Packet Length Std"`
	V41       float64 `parquet:"Packet Length Variance"`
	V42       float64 `parquet:"FIN Flag Count"`
	V43       float64 `parquet:"SYN Flag Count"`
	V44       float64 `parquet:"RST Flag Count"`
	V45       float64 `parquet:"PSH Flag Count"`
	V46       float64 `parquet:"ACK Flag Count"`
	V47       float64 `parquet:"URG Flag Count"`
	V48       float64 `parquet:"CWR Flag Count"`
	V49       float64 `parquet:"ECE Flag Count"`
	V50       float64 `parquet:"Down/Up Ratio"`
	V51       float64 `parquet:"Average Packet Size"`
	V52       float64 `parquet:"Fwd Segment Size Avg"`
	V53       float64 `parquet:"Bwd Segment Size Avg"`
	V54       float64 `parquet:"Fwd Bytes/Bulk Avg"`
	V55       float64 `parquet:"Fwd Packet/Bulk Avg"`
	V56       float64 `parquet:"Fwd Bulk Rate Avg"`
	V57       float64 `parquet:"Bwd Bytes/Bulk Avg"`
	V58       float64 `parquet:"Bwd Packet/Bulk Avg"`
	V59       float64 `parquet:"Bwd Bulk Rate Avg"`
	V60       float64 `parquet:"Subflow Fwd Packets"`
	V61       float64 `parquet:"Subflow Fwd Bytes"`
	V62       float64 `parquet:"Subflow Bwd Packets"`
	V63       float64 `parquet:"Subflow Bwd Bytes"`
	V64       float64 `parquet:"FWD Init Win Bytes"`
	V65       float64 `parquet:"Bwd Init Win Bytes"`
	V66       float64 `parquet:"Fwd Act Data Pkts"`
	V67       float64 `parquet:"Fwd Seg Size Min"`
	V68       float64 `parquet:"Active Mean"`
	V69       float64 `parquet:"Active Std"`
	V70       float64 `parquet:"Active Max"`
	V71       float64 `parquet:"Active Min"`
	V72       float64 `parquet:"Idle Mean"`
	V73       float64 `parquet:"Idle Std"`
	V74       float64 `parquet:"Idle Max"`
	V75       float64 `parquet:"Idle Min"`
	Label     string  `parquet:"Label"`
}

const parquetBatch = 1024

type parquetOut struct {
	w    *parquet.GenericWriter[parquetRow]
	rows []parquetRow
}

func newParquetOut(w *writer) *parquetOut {
	return &parquetOut{
		w: parquet.NewGenericWriter[parquetRow](w.bw,
			parquet.Compression(&parquet.Zstd),
			parquet.MaxRowsPerRowGroup(128<<10),
			parquet.CreatedBy("rangehunt", "flows", "1")),
		rows: make([]parquetRow, 0, parquetBatch),
	}
}

func (p *parquetOut) add(f *Flow, v *[NumValues]float64, id, label string) error {
	p.rows = append(p.rows, parquetRow{})
	r := &p.rows[len(p.rows)-1]
	r.FlowID = id
	r.SrcIP = f.Src().String()
	r.SrcPort = int32(f.SrcPort)
	r.DstIP = f.Dst().String()
	r.DstPort = int32(f.DstPort)
	r.Protocol = int32(f.Proto)
	r.Timestamp = f.Start / 1000
	r.V00 = v[0]
	r.V01 = v[1]
	r.V02 = v[2]
	r.V03 = v[3]
	r.V04 = v[4]
	r.V05 = v[5]
	r.V06 = v[6]
	r.V07 = v[7]
	r.V08 = v[8]
	r.V09 = v[9]
	r.V10 = v[10]
	r.V11 = v[11]
	r.V12 = v[12]
	r.V13 = v[13]
	r.V14 = v[14]
	r.V15 = v[15]
	r.V16 = v[16]
	r.V17 = v[17]
	r.V18 = v[18]
	r.V19 = v[19]
	r.V20 = v[20]
	r.V21 = v[21]
	r.V22 = v[22]
	r.V23 = v[23]
	r.V24 = v[24]
	r.V25 = v[25]
	r.V26 = v[26]
	r.V27 = v[27]
	r.V28 = v[28]
	r.V29 = v[29]
	r.V30 = v[30]
	r.V31 = v[31]
	r.V32 = v[32]
	r.V33 = v[33]
	r.V34 = v[34]
	r.V35 = v[35]
	r.V36 = v[36]
	r.V37 = v[37]
	r.V38 = v[38]
	r.V39 = v[39]
	r.V40 = v[40]
	r.V41 = v[41]
	r.V42 = v[42]
	r.V43 = v[43]
	r.V44 = v[44]
	r.V45 = v[45]
	r.V46 = v[46]
	r.V47 = v[47]
	r.V48 = v[48]
	r.V49 = v[49]
	r.V50 = v[50]
	r.V51 = v[51]
	r.V52 = v[52]
	r.V53 = v[53]
	r.V54 = v[54]
	r.V55 = v[55]
	r.V56 = v[56]
	r.V57 = v[57]
	r.V58 = v[58]
	r.V59 = v[59]
	r.V60 = v[60]
	r.V61 = v[61]
	r.V62 = v[62]
	r.V63 = v[63]
	r.V64 = v[64]
	r.V65 = v[65]
	r.V66 = v[66]
	r.V67 = v[67]
	r.V68 = v[68]
	r.V69 = v[69]
	r.V70 = v[70]
	r.V71 = v[71]
	r.V72 = v[72]
	r.V73 = v[73]
	r.V74 = v[74]
	r.V75 = v[75]
	r.Label = label
	if len(p.rows) == parquetBatch {
		return p.flushRows()
	}
	return nil
}

func (p *parquetOut) flushRows() error {
	if len(p.rows) == 0 {
		return nil
	}
	if _, err := p.w.Write(p.rows); err != nil {
		return fmt.Errorf("writing parquet rows: %w", err)
	}
	p.rows = p.rows[:0]
	return nil
}

func (p *parquetOut) close() error {
	if err := p.flushRows(); err != nil {
		return err
	}
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("closing parquet file: %w", err)
	}
	return nil
}
