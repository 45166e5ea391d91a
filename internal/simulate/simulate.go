// Package simulate generates a reference cyber-range run: attack metadata
// (scenario.yaml), ECS process and network events per host, pcap captures
// per network segment, and the ground truth that ties every event and
// every packet to the procedure it belongs to (or to benign activity).
//
// The generator is a discrete-event simulation: activities schedule
// process starts and ends, connection events and packets into one
// time-ordered queue, which is drained into the output files as it goes,
// so memory stays bounded by the activity in flight, not by the run's
// length. One seeded random source drives everything: the same Options
// give byte-identical output.
package simulate

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rangehunt/rangehunt/internal/pcapwrite"
	"github.com/rangehunt/rangehunt/internal/scenario"
)

// Options configure a run.
type Options struct {
	// Scenario names a built-in scenario (see Scenarios); "" is florama.
	Scenario string
	// Seed seeds the random source.
	Seed uint64
	// Start is the first instant of the run; zero is DefaultStart.
	Start time.Time
	// Duration of the run; zero is one hour.
	Duration time.Duration
	// Workstations is the number of intranet workstations (at least 1).
	Workstations int
	// BenignRate is the number of benign activities per host and minute
	// (each a cron job, a service, a browsing session, an SSH session, ...);
	// zero is DefaultBenignRate, a negative rate means no background.
	BenignRate float64
	// BenignOnly leaves the attack out.
	BenignOnly bool
	// Progress, when set, is called now and then with the counts so far.
	Progress func(events, packets int64)

	// Workload restricts the benign mix, for benchmarks: "process" runs
	// only activities without network traffic (cron jobs, services),
	// "network" only browsing and NTP; "" is the full mix.
	Workload string
}

// DefaultStart is the start of a run when Options.Start is zero.
var DefaultStart = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// Defaults of Options.
const (
	DefaultDuration     = time.Hour
	DefaultBenignRate   = 0.5
	DefaultWorkstations = 3
)

// ScenarioInfo describes a built-in scenario.
type ScenarioInfo struct {
	Name        string
	Description string
	// MinDuration is the shortest run that holds the whole attack.
	MinDuration time.Duration
}

// Scenarios lists the built-in scenarios.
func Scenarios() []ScenarioInfo {
	return []ScenarioInfo{{
		Name: "florama",
		Description: "Log4Shell on a DMZ Tomcat, C&C agent, nmap subnet and port scans, SSH brute force and remote " +
			"control of the Squid proxy, Python reverse shell, Squid URL-rewrite AitM, API key theft",
		MinDuration: 30 * time.Minute,
	}}
}

// Sink creates the files of a run by slash-separated relative name
// (logs/web.ndjson, pcaps/dmz.pcap, truth/events.csv, scenario.yaml).
type Sink interface {
	Create(name string) (io.WriteCloser, error)
}

// DirSink writes files under a directory, creating subdirectories.
type DirSink string

// Create implements Sink.
func (d DirSink) Create(name string) (io.WriteCloser, error) {
	p := filepath.Join(string(d), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return os.Create(p)
}

// Stats summarises a run.
type Stats struct {
	Events, Packets int64
	// Files maps each written file to its size in bytes.
	Files map[string]int64
	// Procedures is how many attack procedures ran.
	Procedures int
}

// Run generates a run into sink.
func Run(ctx context.Context, sink Sink, opts Options) (Stats, error) {
	if opts.Scenario == "" {
		opts.Scenario = "florama"
	}
	var info *ScenarioInfo
	for _, sc := range Scenarios() {
		if sc.Name == opts.Scenario {
			info = &sc
		}
	}
	if info == nil {
		return Stats{}, fmt.Errorf("unknown scenario %q (try --list)", opts.Scenario)
	}
	if opts.Duration == 0 {
		opts.Duration = DefaultDuration
	}
	if opts.Duration < 0 {
		return Stats{}, fmt.Errorf("duration %v is negative", opts.Duration)
	}
	if !opts.BenignOnly && opts.Duration < info.MinDuration {
		return Stats{}, fmt.Errorf("scenario %s needs a duration of at least %v for its attack (or use benign-only)", info.Name, info.MinDuration)
	}
	if opts.Workload != "" && opts.Workload != "process" && opts.Workload != "network" {
		return Stats{}, fmt.Errorf("unknown workload %q (process or network)", opts.Workload)
	}
	if opts.Workstations == 0 {
		opts.Workstations = DefaultWorkstations
	}
	if opts.Workstations < 1 || opts.Workstations > 150 {
		return Stats{}, fmt.Errorf("workstations %d out of range 1..150", opts.Workstations)
	}
	if opts.BenignRate == 0 {
		opts.BenignRate = DefaultBenignRate
	}
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
	}
	s := &sim{
		opts:     opts,
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5deece66d)),
		start:    opts.Start.UnixNano(),
		end:      opts.Start.Add(opts.Duration).UnixNano(),
		sink:     sink,
		lblIndex: map[string]uint16{},
		exeHash:  map[string]string{},
		open:     map[uint64]*conn{},
		scripts:  map[string]string{},
		plans:    map[string][]shStep{},
		progress: opts.Progress,
	}
	s.now = s.start
	s.label("benign")
	s.lblIndex[""] = 0
	s.initBehaviours()
	s.initFiller()
	s.w = floramaWorld(s, opts.Workstations)
	err := s.run(ctx)
	st := Stats{Events: s.events, Packets: s.packets, Files: map[string]int64{}}
	for _, f := range s.files {
		st.Files[f.name] = f.cw.n
	}
	if s.att != nil {
		st.Procedures = len(s.att.spans)
	}
	return st, err
}

func (s *sim) run(ctx context.Context) (err error) {
	defer func() {
		for _, f := range s.files {
			if e := f.w.Flush(); e != nil && err == nil {
				err = fmt.Errorf("write %s: %w", f.name, e)
			}
			if e := f.c.Close(); e != nil && err == nil {
				err = fmt.Errorf("close %s: %w", f.name, e)
			}
		}
	}()
	for _, h := range s.w.hosts {
		f, err := s.create("logs/" + h.name + ".ndjson")
		if err != nil {
			return err
		}
		h.out = f
		s.logs = append(s.logs, f)
	}
	for _, sg := range s.w.segs {
		f, err := s.create("pcaps/" + sg.name + ".pcap")
		if err != nil {
			return err
		}
		if f.pcap, err = pcapwrite.NewWriter(f.w, 0); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		sg.out = f
		s.pcaps = append(s.pcaps, f)
	}
	if s.tEvents, err = s.createTruth("truth/events.csv", "file,first_line,last_line,label"); err != nil {
		return err
	}
	if s.tPackets, err = s.createTruth("truth/packets.csv", "file,first_packet,last_packet,label"); err != nil {
		return err
	}
	if s.tConv, err = s.createTruth("truth/conversations.csv", "file,transport,client_ip,client_port,server_ip,server_port,first_packet_us,packets,bytes,label"); err != nil {
		return err
	}
	if !s.opts.BenignOnly {
		s.startAttack()
	}
	s.startBenign()
	// Drain in slices so that cancellation is noticed.
	for s.q.len() > 0 && s.err == nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		stop := s.q.first() + 60*sec
		for s.q.len() > 0 && s.q.first() < stop && s.err == nil {
			s.loopOne()
		}
		if s.q.len() > 0 && s.q.first() >= s.end {
			break
		}
	}
	if s.err != nil {
		return s.err
	}
	for _, c := range s.sortedConns() {
		s.finishConn(c)
	}
	s.finishRuns(s.logs, s.tEvents)
	s.finishRuns(s.pcaps, s.tPackets)
	if err := s.writeSummary(); err != nil {
		return err
	}
	return s.writeScenario()
}

// queuePeak, when set (by tests), receives the largest queue length.
var queuePeak *int

func (s *sim) loopOne() {
	if queuePeak != nil && s.q.len() > *queuePeak {
		*queuePeak = s.q.len()
	}
	it := s.q.pop()
	if it.t >= s.end {
		s.q.reset()
		return
	}
	s.now = it.t
	switch it.kind {
	case itCall:
		it.fn()
	case itProcStart:
		s.emitProcStart(it.t, it.p)
	case itProcEnd:
		s.emitProcEnd(it.t, it.p)
	case itNet:
		s.emitNet(it.t, &it)
	case itPkt:
		s.emitPacket(&it)
	}
	if s.progress != nil && s.events+s.packets >= s.nextProgress {
		s.nextProgress = s.events + s.packets + 1<<16
		s.progress(s.events, s.packets)
	}
}

// writeSummary writes truth/labels.csv: per label, its events, packets
// and conversation rows.
func (s *sim) writeSummary() error {
	tw, err := s.createTruth("truth/labels.csv", "label,events,packets,conversations")
	if err != nil {
		return err
	}
	idx := make([]int, len(s.labels))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return s.labels[idx[a]] < s.labels[idx[b]] })
	for _, i := range idx {
		tw.w.WriteString(s.labels[i] + "," + strconv.FormatInt(s.lblEvents[i], 10) + "," +
			strconv.FormatInt(s.lblPackets[i], 10) + "," + strconv.FormatInt(s.lblConv[i], 10) + "\n")
	}
	return nil
}

// writeScenario writes scenario.yaml: hosts and the procedures that ran.
func (s *sim) writeScenario() error {
	sc := scenario.Scenario{
		Name:        s.opts.Scenario,
		Description: "Simulated by rangehunt simulate (seed " + strconv.FormatUint(s.opts.Seed, 10) + ", " + s.opts.Duration.String() + ")",
		TimeZone:    "UTC",
	}
	for _, h := range s.w.hosts {
		sc.Hosts = append(sc.Hosts, scenario.Host{Name: h.name, IPs: []string{h.ipStr}, Role: h.role, Platform: "linux", Segment: h.seg.name})
	}
	if s.att != nil {
		sc.Procedures = s.att.procedures(time.UTC)
	}
	if sc.Procedures == nil {
		sc.Procedures = []scenario.Procedure{}
	}
	f, err := s.create("scenario.yaml")
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(f.w)
	enc.SetIndent(2)
	if err := enc.Encode(&sc); err != nil {
		return fmt.Errorf("scenario.yaml: %w", err)
	}
	return enc.Close()
}
