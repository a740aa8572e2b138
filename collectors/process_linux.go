package collectors

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/asyncmon/asyncmon/model"
)

// readProcess fills CPU time, file descriptors and the cgroup v2 CPU state.
// Each part that fails is left at zero; the errors are joined.
func readProcess(p *model.Process) error {
	var errs []error
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		p.CPUSecondsTotal = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
	} else {
		errs = append(errs, fmt.Errorf("getrusage: %w", err))
	}
	if n, err := countFDs(); err == nil {
		p.FDs = n
	} else {
		errs = append(errs, err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		p.FDLimit = int(min(lim.Cur, 1<<31-1))
	} else {
		errs = append(errs, fmt.Errorf("getrlimit: %w", err))
	}
	p.Cgroup = readCgroup("/proc/self/cgroup", "/sys/fs/cgroup")
	return errors.Join(errs...)
}

// readHostCPU returns the host's busy and total CPU time in clock ticks,
// all CPUs, from the first line of /proc/stat: "cpu user nice system
// idle iowait irq softirq steal guest guest_nice". Busy counts steal
// time (a hypervisor's other guests) and leaves out idle and iowait;
// guest time is already in user.
func readHostCPU() (busy, total uint64, err error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	return parseHostCPU(line)
}

func parseHostCPU(line string) (busy, total uint64, err error) {
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var v [8]uint64
	for i := range v {
		if i+1 >= len(f) {
			break
		}
		n, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %q: %w", line, err)
		}
		v[i] = n
	}
	user, nice, system, idle, iowait, irq, softirq, steal := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	busy = user + nice + system + irq + softirq + steal
	return busy, busy + idle + iowait, nil
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// countFDs counts the entries of /proc/self/fd, minus the one the count
// itself holds open.
func countFDs() (int, error) {
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, fmt.Errorf("count fds: %w", err)
	}
	defer f.Close()
	n := 0
	for {
		names, err := f.Readdirnames(256)
		n += len(names)
		if err != nil {
			break
		}
	}
	return max(n-1, 0), nil
}

// readCgroup returns the cgroup v2 CPU state of this process, or nil when
// the process is not in a cgroup v2 with a CPU controller. procCgroup and
// root are parameters so tests can point them at fixtures.
func readCgroup(procCgroup, root string) *model.Cgroup {
	data, err := os.ReadFile(procCgroup)
	if err != nil {
		return nil
	}
	var path string
	for line := range strings.Lines(string(data)) {
		// cgroup v2 has the single line "0::/path".
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			path = rest
			break
		}
	}
	if path == "" {
		return nil
	}
	dir := root + path
	stat, err := os.ReadFile(dir + "/cpu.stat")
	if err != nil {
		return nil
	}
	cg := &model.Cgroup{}
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "nr_periods":
			cg.PeriodsTotal = n
		case "nr_throttled":
			cg.ThrottledPeriodsTotal = n
		case "throttled_usec":
			cg.ThrottledSecondsTotal = float64(n) / 1e6
		}
	}
	if max, err := os.ReadFile(dir + "/cpu.max"); err == nil {
		cg.QuotaCores = parseCPUMax(string(max))
	}
	return cg
}

// parseCPUMax reads cpu.max ("$MAX $PERIOD", MAX may be "max") as cores.
func parseCPUMax(s string) float64 {
	f := strings.Fields(s)
	if len(f) != 2 || f[0] == "max" {
		return 0
	}
	quota, err1 := strconv.ParseFloat(f[0], 64)
	period, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || period <= 0 {
		return 0
	}
	return quota / period
}
