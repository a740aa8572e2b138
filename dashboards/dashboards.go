// Package dashboards builds asyncmon's Grafana dashboards as code.
//
// The dashboards are written with the Grafana Foundation SDK and rendered to
// JSON in grafana/, which is committed so users can import it without Go.
// Regenerate after a change with:
//
//	go generate ./...   (from this directory)
//
// A test fails when the committed JSON is stale.
//
// # Conventions
//
// Every panel reads from the ${datasource} variable and every query is
// scoped by job=~"$job" and instance=~"$instance". Histograms are read
// from their classic _bucket series: Prometheus drops those when it
// ingests native histograms, so scrape asyncmon with classic histograms
// (the default). Where the standard client_golang Go collector exports the
// same quantity, a panel falls back to it with `or on()`, so the Instance
// dashboard also shows something for services without the agent.
package dashboards

//go:generate go run ./gen

// The SDK marks its v1 dashboard model deprecated in favour of the v2
// schema, which only Grafana 12+ with its v2 API reads; the classic model
// is the JSON every Grafana imports, so it stays.
//lint:file-ignore SA1019 the v1 dashboard model is the one Grafana imports (see above)

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// UIDs of the dashboards; links and provisioning rely on them.
const (
	FleetUID    = "asyncmon-fleet"
	InstanceUID = "asyncmon-instance"
)

// scope is the label matcher every query carries.
const scope = `job=~"$job", instance=~"$instance"`

// datasource is the reference every panel, query and annotation uses.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

// sel returns the selector name{job=~"$job", instance=~"$instance", more...}.
func sel(name string, more ...string) string {
	return name + "{" + strings.Join(append([]string{scope}, more...), ", ") + "}"
}

// rate returns rate(sel(name, more...)[$__rate_interval]).
func rate(name string, more ...string) string {
	return "rate(" + sel(name, more...) + "[$__rate_interval])"
}

// quantile returns the q quantile of the classic histogram name, summed
// over the labels in by (plus le).
func quantile(q, name, by string) string {
	return fmt.Sprintf("histogram_quantile(%s, sum by (%s) (%s))", q, joinLabels(by, "le"), rate(name+"_bucket"))
}

func joinLabels(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// query is one target of a panel.
type query struct {
	expr, legend string
}

func target(q query, ref string) *prometheus.DataqueryBuilder {
	b := prometheus.NewDataqueryBuilder().
		Datasource(datasource()).
		RefId(ref).
		Expr(q.expr).
		EditorMode(prometheus.QueryEditorModeCode).
		Range()
	if q.legend != "" {
		b = b.LegendFormat(q.legend)
	}
	return b
}

func refID(i int) string { return string(rune('A' + i)) }

// graph is a time series panel.
func graph(title, desc, unit string, w uint32, qs ...query) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(datasource()).
		Unit(unit).
		Span(w).
		Height(8).
		Min(0).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
	for i, q := range qs {
		p = p.WithTarget(target(q, refID(i)))
	}
	return p
}

// stacked is a time series panel whose series add up to a whole.
func stacked(title, desc, unit string, w uint32, qs ...query) *timeseries.PanelBuilder {
	return graph(title, desc, unit, w, qs...).
		FillOpacity(40).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
}

// single is a stat panel of one instant value.
func single(title, desc, unit string, w uint32, q query) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(datasource()).
		Unit(unit).
		Span(w).
		Height(4).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		WithTarget(target(q, "A"))
}

// tableOf is a table of an instant query, one row per series, with the
// columns in the given order (others hidden).
func tableOf(title, desc, unit string, w, h uint32, q query, columns ...string) *table.PanelBuilder {
	order := map[string]any{}
	for i, c := range columns {
		order[c] = i
	}
	return table.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(datasource()).
		Unit(unit).
		Span(w).
		Height(h).
		// The SDK's default footer has a null reducer list, which Grafana's
		// table panel does not accept: set it explicitly.
		Footer(common.NewTableFooterOptionsBuilder().
			Show(false).
			Reducer([]string{"sum"}).
			CountRows(false)).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Value").Desc(true),
		}).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "organize",
			Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
				"indexByName":   order,
				"includeByName": map[string]any{},
				"renameByName":  map[string]any{},
			},
		}).
		WithTarget(target(q, "A").Instant().Format(prometheus.PromQueryFormatTable))
}

func row(title string) *dashboard.RowBuilder {
	return dashboard.NewRowBuilder(title).Datasource(datasource())
}

// variables returns the datasource, job and instance variables. The job
// and instance lists come from metric, so that they list the targets the
// dashboard can show.
func variables(metric string, multi bool) []cog.Builder[dashboard.VariableModel] {
	all := multi
	return []cog.Builder[dashboard.VariableModel]{
		dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus"),
		dashboard.NewQueryVariableBuilder("job").
			Label("Job").
			Datasource(datasource()).
			Query(dashboard.StringOrMap{String: cog.ToPtr("label_values(" + metric + ", job)")}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(multi).
			IncludeAll(all).
			AllValue(".+"),
		dashboard.NewQueryVariableBuilder("instance").
			Label("Instance").
			Datasource(datasource()).
			Query(dashboard.StringOrMap{String: cog.ToPtr("label_values(" + metric + `{job=~"$job"}, instance)`)}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(multi).
			IncludeAll(all).
			AllValue(".+"),
	}
}

// findingsAnnotation marks the time ranges in which a detector's finding
// was firing.
func findingsAnnotation() *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name("Findings").
		Datasource(datasource()).
		Enable(true).
		IconColor("red").
		Expr(sel("asyncmon_finding_active") + " > 0").
		TitleFormat("{{detector}} ({{level}})").
		TextFormat("asyncmon {{detector}} finding on {{instance}}").
		TagKeys("detector,level").
		Step("30s")
}

func link(title, uid string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder(title).
		Type(dashboard.DashboardLinkTypeLink).
		Url("/d/" + uid).
		IncludeVars(true).
		KeepTime(true)
}

func base(title, uid, desc string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(desc).
		Tags([]string{"asyncmon", "go"}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("30s").
		Time("now-1h", "now").
		Timezone(common.TimeZoneBrowser)
}

// Fleet is the "asyncmon / Fleet" dashboard: every instance at a glance.
func Fleet() (dashboard.Dashboard, error) {
	const p99 = `histogram_quantile(0.99, sum by (job, instance, le) (rate(asyncmon_sched_latency_seconds_bucket{` + scope + `}[$__rate_interval])))`
	return base("asyncmon / Fleet", FleetUID,
		"Every service that embeds the asyncmon agent: which instances have findings, scheduling latency, goroutine growth and leaked connections.").
		Variables(variables("asyncmon_build_info", true)).
		Annotation(findingsAnnotation()).
		Link(link("asyncmon / Instance", InstanceUID)).
		WithRow(row("Findings")).
		WithPanel(single("Instances",
			"Instances that export asyncmon metrics.", "short", 6,
			query{expr: "count(" + sel("asyncmon_build_info") + ")"})).
		WithPanel(single("Instances with findings",
			"Instances where at least one detector has a firing finding now.", "short", 6,
			query{expr: "count(max by (job, instance) (" + sel("asyncmon_finding_active") + ") > 0) or on() vector(0)"})).
		WithPanel(single("Worst scheduling latency p99",
			"The highest scheduling latency p99 of any instance, over the rate interval.", "s", 6,
			query{expr: "max(" + p99 + ")"})).
		WithPanel(single("Leaked connections, 1h",
			"Connections and response bodies dropped without Close in the last hour, all instances.", "short", 6,
			query{expr: "sum(increase(" + sel("asyncmon_connections_leaked_total") + "[1h]))"})).
		WithPanel(tableOf("Firing findings",
			"One row per instance and detector with a firing finding. Open the Instance dashboard or run `asyncmon findings ADDR` for the evidence.",
			"short", 12, 8,
			query{expr: "max by (job, instance, detector, level) (" + sel("asyncmon_finding_active") + ") > 0"},
			"job", "instance", "detector", "level", "Value")).
		WithPanel(stacked("Findings by detector",
			"Firing findings over time, all selected instances, by detector.",
			"short", 12,
			query{expr: "sum by (detector) (" + sel("asyncmon_finding_active") + ")", legend: "{{detector}}"})).
		WithRow(row("Scheduler and goroutines")).
		WithPanel(graph("Scheduling latency p99 per instance",
			"How long runnable goroutines waited for a processor, p99 per instance (top 10). Starvation shows here first.",
			"s", 12,
			query{expr: "topk(10, " + p99 + ")", legend: "{{instance}}"})).
		WithPanel(graph("Goroutines per instance",
			"All goroutines per instance (top 10).", "short", 12,
			query{expr: "topk(10, sum by (job, instance) (" + sel("asyncmon_goroutines") + "))", legend: "{{instance}}"})).
		WithPanel(graph("Goroutine growth",
			"Change in the number of goroutines over the last hour, per instance (top 10). A line that only climbs is a leak.",
			"short", 12,
			query{expr: "topk(10, sum by (job, instance) (delta(" + sel("asyncmon_goroutines") + "[1h])))", legend: "{{instance}}"})).
		WithPanel(graph("Leaked connections",
			"Connections and response bodies dropped without Close, per instance and kind, over the last hour.",
			"short", 12,
			query{expr: "sum by (job, instance, kind) (increase(" + sel("asyncmon_connections_leaked_total") + "[1h]))", legend: "{{instance}} {{kind}}"})).
		Build()
}

// Instance is the "asyncmon / Instance" dashboard: one process in depth.
func Instance() (dashboard.Dashboard, error) {
	latency := func(q string) string {
		return quantile(q, "asyncmon_sched_latency_seconds", "") +
			" or on() " + quantile(q, "go_sched_latencies_seconds", "")
	}
	return base("asyncmon / Instance", InstanceUID,
		"One Go process: scheduler latency, goroutines, GC, contention, connections and the asyncmon agent. Findings are annotations.").
		Variables(variables("go_info", false)).
		Annotation(findingsAnnotation()).
		Link(link("asyncmon / Fleet", FleetUID)).
		WithRow(row("Scheduler")).
		WithPanel(graph("Scheduling latency",
			"Time runnable goroutines waited for a processor (runtime /sched/latencies), quantiles over the rate interval. Falls back to the standard Go collector's go_sched_latencies_seconds.",
			"s", 12,
			query{expr: latency("0.5"), legend: "p50"},
			query{expr: latency("0.9"), legend: "p90"},
			query{expr: latency("0.99"), legend: "p99"})).
		WithPanel(heatmap.NewPanelBuilder().
			Title("Scheduling latency heatmap").
			Description("Scheduling events per latency bucket. A band moving up is starvation; a few dots high up are stop-the-world pauses.").
			Datasource(datasource()).
			Unit("short").
			Span(12).
			Height(8).
			Calculate(false).
			YAxis(heatmap.NewYAxisConfigBuilder().Unit("s")).
			CellValues(heatmap.NewCellValuesBuilder().Unit("short")).
			Color(heatmap.NewHeatmapColorOptionsBuilder().
				Mode(heatmap.HeatmapColorModeScheme).
				Scheme("Oranges").
				Scale(heatmap.HeatmapColorScaleExponential).
				Exponent(0.5).
				Fill("dark-orange").
				Steps(64)).
			CellGap(1).
			RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe)).
			ShowLegend().
			Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
			WithTarget(target(query{
				expr:   "sum by (le) (increase(" + sel("asyncmon_sched_latency_seconds_bucket") + "[$__rate_interval]))",
				legend: "{{le}}",
			}, "A").Format(prometheus.PromQueryFormatHeatmap))).
		WithPanel(graph("Scheduling latency, last interval",
			"Scheduling latency quantiles over each of the agent's collection intervals: what the starvation detector sees.",
			"s", 8,
			query{expr: sel("asyncmon_sched_latency_window_seconds"), legend: "q{{quantile}}"})).
		WithPanel(graph("Probe lag",
			"How late the agent's timer probe woke up: a goroutine that asks to wake on a fixed period and measures the delay. Everything in the process is this late.",
			"s", 8,
			query{expr: quantile("0.5", "asyncmon_sched_probe_lag_seconds", ""), legend: "p50"},
			query{expr: quantile("0.99", "asyncmon_sched_probe_lag_seconds", ""), legend: "p99"})).
		WithPanel(graph("Stop-the-world pauses",
			"The longest stop-the-world pause in each collection interval (falls back to the standard collector's longest recent GC pause), and the GC pause p99 from the runtime's /sched/pauses histogram.",
			"s", 8,
			query{expr: sel("asyncmon_sched_pause_max_seconds") + " or on() " + sel("go_gc_duration_seconds", `quantile="1"`), legend: "longest pause"},
			query{expr: quantile("0.99", "go_sched_pauses_total_gc_seconds", ""), legend: "GC pause p99"})).
		WithRow(row("Goroutines")).
		WithPanel(stacked("Goroutines by state",
			"Goroutines by scheduler state. Runnable goroutines well above GOMAXPROCS mean they queue for processors. Falls back to go_goroutines.",
			"short", 12,
			query{expr: sel("asyncmon_goroutines") + ` or on() label_replace(` + sel("go_goroutines") + `, "state", "all", "", "")`, legend: "{{state}}"})).
		WithPanel(stacked("Goroutines by wait reason",
			"Goroutines by what they wait on, from the agent's goroutine groups. A pile-up on one reason points at a stall or a leak.",
			"short", 12,
			query{expr: sel("asyncmon_goroutines_by_wait_reason"), legend: "{{reason}}"})).
		WithPanel(tableOf("Top goroutine groups",
			"The largest goroutine groups (same creation site, wait reason and top frames) now. A group that only grows is a leak; `asyncmon attach` shows its stack.",
			"short", 16, 8,
			query{expr: "sort_desc(topk(15, " + sel("asyncmon_goroutine_group_goroutines") + "))"},
			"site", "wait_reason", "Value")).
		WithPanel(graph("Goroutines created",
			"Goroutines started per second, and the number of goroutine groups.",
			"ops", 8,
			query{expr: rate("asyncmon_goroutines_created_total"), legend: "created / s"},
			query{expr: sel("asyncmon_goroutine_groups"), legend: "groups"})).
		WithRow(row("GC and contention")).
		WithPanel(graph("GC CPU fraction",
			"Share of the available CPU used by the garbage collector, and by mark assists (GC work charged to your goroutines while they allocate), over each collection interval.",
			"percentunit", 8,
			query{expr: sel("asyncmon_gc_cpu_fraction"), legend: "GC"},
			query{expr: sel("asyncmon_gc_assist_cpu_fraction"), legend: "mark assists"})).
		WithPanel(graph("Mutex and block delay",
			"Seconds spent waiting per second: on sync.Mutex (the runtime's total, and the mutex profile), and blocked on channels, selects and locks (the block profile). 1 means one goroutine waiting all the time. The profile series need the agent's Options.BlockProfileRate and MutexProfileFraction.",
			"s", 8,
			query{expr: rate("asyncmon_mutex_wait_seconds_total"), legend: "mutex wait (runtime)"},
			query{expr: rate("asyncmon_mutex_delay_seconds_total"), legend: "mutex delay (profile)"},
			query{expr: rate("asyncmon_block_delay_seconds_total"), legend: "block delay (profile)"})).
		WithPanel(graph("Contention events",
			"Contended mutex and blocking events per second, as sampled by the profiles (on when the agent's Options.BlockProfileRate and MutexProfileFraction are set).",
			"ops", 8,
			query{expr: rate("asyncmon_mutex_events_total"), legend: "mutex"},
			query{expr: rate("asyncmon_block_events_total"), legend: "block"})).
		WithPanel(graph("Contended sites",
			"The call sites that caused the most blocking and mutex delay over each collection window (top five of each): where to look first when delay rises. Needs the block and mutex profiles (the agent's Options.BlockProfileRate and MutexProfileFraction).",
			"s", 24,
			query{expr: "topk(5, " + sel("asyncmon_block_site_delay_seconds") + ")", legend: "block {{site}}"},
			query{expr: "topk(5, " + sel("asyncmon_mutex_site_delay_seconds") + ")", legend: "mutex {{site}}"})).
		WithRow(row("Connections")).
		WithPanel(stacked("Open connections",
			"Connections the agent tracks, by kind (server, client, http-body, sql).",
			"short", 8,
			query{expr: sel("asyncmon_connections_open"), legend: "{{kind}}"})).
		WithPanel(graph("Leaked connections",
			"Connections and response bodies dropped without Close, per kind and rate interval: every one is a certain leak.",
			"short", 8,
			query{expr: "sum by (kind) (increase(" + sel("asyncmon_connections_leaked_total") + "[$__rate_interval]))", legend: "{{kind}}"})).
		WithPanel(graph("File descriptors",
			"Open file descriptors against the soft limit (standard process collector).",
			"short", 8,
			query{expr: sel("process_open_fds"), legend: "open"},
			query{expr: sel("process_max_fds"), legend: "limit"})).
		WithPanel(graph("Database pools",
			"database/sql pool connections by state, and each pool's limit (0 means none).",
			"short", 12,
			query{expr: sel("asyncmon_db_pool_connections"), legend: "{{pool}} {{state}}"},
			query{expr: sel("asyncmon_db_pool_max_open_connections"), legend: "{{pool}} limit"})).
		WithPanel(graph("Pool wait",
			"Seconds per second that callers waited for a pool connection. Above zero, the pool is the bottleneck.",
			"s", 12,
			query{expr: rate("asyncmon_db_pool_wait_duration_seconds_total"), legend: "{{pool}}"})).
		WithRow(row("Failures")).
		WithPanel(graph("Panics by site",
			"Panics per rate interval at each site (the user's function and file:line that panicked): HTTP handlers through the agent's middleware, goroutines through Agent.RecordPanic. Every one is a bug.",
			"short", 12,
			query{expr: "sum by (kind, site) (increase(" + sel("asyncmon_panics_total") + "[$__rate_interval]))", legend: "{{kind}} {{site}}"})).
		WithPanel(graph("Calls without a deadline",
			"Outbound HTTP and SQL calls per second made through the tracked wrappers with no deadline on their context, by the site that made them. One hung dependency holds each of them for ever.",
			"ops", 12,
			query{expr: "sum by (kind, site) (" + rate("asyncmon_calls_without_deadline_total") + ")", legend: "{{kind}} {{site}}"})).
		WithPanel(graph("Requests in flight",
			"HTTP requests being served (the agent's middleware) and the age of the oldest. A steady climb while completions lag arrivals is load piling up with nothing shedding it.",
			"short", 8,
			query{expr: sel("asyncmon_requests_in_flight"), legend: "in flight"})).
		WithPanel(graph("Request arrivals and completions",
			"Requests per second arriving and finishing. Arrivals above completions for long means a queue that grows.",
			"ops", 8,
			query{expr: rate("asyncmon_requests_started_total"), legend: "arrived"},
			query{expr: rate("asyncmon_requests_completed_total"), legend: "completed"})).
		WithPanel(graph("Oldest request and last crash",
			"Age of the oldest request in flight, and the time since the previous run's crash (0 when there is none) (the crash report is kept in the user's state directory and shown by asyncmon findings).",
			"s", 8,
			query{expr: sel("asyncmon_requests_oldest_age_seconds"), legend: "oldest request"},
			query{expr: "(time() - " + sel("asyncmon_last_crash_timestamp_seconds") + ") * (" + sel("asyncmon_last_crash_timestamp_seconds") + " > bool 0)", legend: "since last crash (0: none)"})).
		WithRow(row("Agent")).
		WithPanel(graph("Agent collectors",
			"The agent's collections per second, errors and panics per collector, and panics per detector. Errors blind the views the collector feeds; a panic is an asyncmon bug.",
			"ops", 12,
			query{expr: rate("asyncmon_collections_total"), legend: "collections"},
			query{expr: "sum by (collector) (" + rate("asyncmon_collector_errors_total") + ")", legend: "{{collector}} errors"},
			query{expr: "sum by (collector) (" + rate("asyncmon_collector_panics_total") + ")", legend: "{{collector}} panics"},
			query{expr: "sum by (detector) (" + rate("asyncmon_detector_panics_total") + ")", legend: "{{detector}} detector panics"})).
		WithPanel(graph("Collector duration",
			"Time each collector took in its last run: the agent's own cost.",
			"s", 12,
			query{expr: sel("asyncmon_collector_duration_seconds"), legend: "{{collector}}"})).
		Build()
}

// finish fixes what the SDK leaves for Grafana to guess.
//
// It gives every panel and row a unique id, in layout order: the SDK
// leaves panel ids unset and row ids at 0, and Grafana needs them unique
// for links to a panel and for panel-level state. It also drops the
// "inControlsMenu" placement the SDK gives links and annotations by
// default, so the links and the Findings toggle show in the dashboard's
// top bar.
func finish(d *dashboard.Dashboard) {
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	for i := range d.Annotations.List {
		d.Annotations.List[i].Placement = nil
	}
	id := uint32(0)
	for _, p := range d.Panels {
		id++
		switch {
		case p.Panel != nil:
			p.Panel.Id = cog.ToPtr(id)
		case p.RowPanel != nil:
			p.RowPanel.Id = id
			for i := range p.RowPanel.Panels {
				id++
				p.RowPanel.Panels[i].Id = cog.ToPtr(id)
			}
		}
	}
}

// Generate renders every dashboard to indented JSON, keyed by file name.
func Generate() (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, build := range map[string]func() (dashboard.Dashboard, error){
		"asyncmon-fleet.json":    Fleet,
		"asyncmon-instance.json": Instance,
	} {
		d, err := build()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		finish(&d)
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = append(b, '\n')
	}
	return out, nil
}
