module github.com/asyncmon/asyncmon/dashboards

go 1.26.0

require (
	github.com/asyncmon/asyncmon v0.0.0
	gopkg.in/yaml.v3 v3.0.1
)

require github.com/grafana/grafana-foundation-sdk/go v0.0.22 // indirect

replace github.com/asyncmon/asyncmon => ../
