module github.com/asyncmon/asyncmon/dashboards

go 1.26.0

require (
	github.com/asyncmon/asyncmon v0.0.0
	github.com/grafana/grafana-foundation-sdk/go v0.0.22
	gopkg.in/yaml.v3 v3.0.1
)

// The tests use the main module's internal/testenv, and the end-to-end
// test builds ../cmd/asyncmon from this checkout.
replace github.com/asyncmon/asyncmon => ../
