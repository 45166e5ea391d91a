// Package pcapwrite writes classic libpcap capture files of Ethernet frames
// and builds IPv4 TCP and UDP frames with correct lengths and checksums. It
// is the write side used by the simulator; it allocates nothing per packet
// once its buffers have grown.
package pcapwrite

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// LinkTypeEthernet is the pcap link type of Ethernet II frames.
const LinkTypeEthernet = 1

// Magic numbers of the classic pcap format (little-endian on disk).
const (
	magicMicro = 0xa1b2c3d4
)

// Writer streams packets into a pcap file with microsecond timestamps.
type Writer struct {
	w       *bufio.Writer
	snaplen uint32
	hdr     [16]byte
	packets int64
	bytes   int64
}

// NewWriter writes the pcap file header for Ethernet frames to w and
// returns a Writer. snaplen 0 means 262144. Call Flush when done.
func NewWriter(w io.Writer, snaplen uint32) (*Writer, error) {
	if snaplen == 0 {
		snaplen = 262144
	}
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriterSize(w, 256<<10)
	}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], magicMicro)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], LinkTypeEthernet)
	if _, err := bw.Write(h[:]); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	return &Writer{w: bw, snaplen: snaplen}, nil
}

// WritePacket appends one frame captured at tsNanos (Unix nanoseconds).
// Frames longer than the snap length are truncated in the file and keep
// their original length in the record header.
func (w *Writer) WritePacket(tsNanos int64, frame []byte) error {
	capLen := uint32(len(frame))
	if capLen > w.snaplen {
		capLen = w.snaplen
	}
	sec := tsNanos / 1e9
	usec := (tsNanos % 1e9) / 1e3
	binary.LittleEndian.PutUint32(w.hdr[0:], uint32(sec))
	binary.LittleEndian.PutUint32(w.hdr[4:], uint32(usec))
	binary.LittleEndian.PutUint32(w.hdr[8:], capLen)
	binary.LittleEndian.PutUint32(w.hdr[12:], uint32(len(frame)))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return fmt.Errorf("pcap packet %d: %w", w.packets+1, err)
	}
	if _, err := w.w.Write(frame[:capLen]); err != nil {
		return fmt.Errorf("pcap packet %d: %w", w.packets+1, err)
	}
	w.packets++
	w.bytes += int64(len(frame))
	return nil
}

// WritePacketParts writes one frame given as two parts (a head built by
// AppendTCPHead and its Tail), without copying them together.
func (w *Writer) WritePacketParts(tsNanos int64, head, tail []byte) error {
	if uint32(len(head)+len(tail)) > w.snaplen {
		return w.WritePacket(tsNanos, append(append([]byte(nil), head...), tail...))
	}
	n := uint32(len(head) + len(tail))
	binary.LittleEndian.PutUint32(w.hdr[0:], uint32(tsNanos/1e9))
	binary.LittleEndian.PutUint32(w.hdr[4:], uint32(tsNanos%1e9/1e3))
	binary.LittleEndian.PutUint32(w.hdr[8:], n)
	binary.LittleEndian.PutUint32(w.hdr[12:], n)
	w.w.Write(w.hdr[:])
	w.w.Write(head)
	if _, err := w.w.Write(tail); err != nil {
		return fmt.Errorf("pcap packet %d: %w", w.packets+1, err)
	}
	w.packets++
	w.bytes += int64(n)
	return nil
}

// Packets returns the number of packets written.
func (w *Writer) Packets() int64 { return w.packets }

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error { return w.w.Flush() }
