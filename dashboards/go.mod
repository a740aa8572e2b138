module github.com/asyncmon/asyncmon/dashboards

go 1.26.0

require (
	github.com/grafana/grafana-foundation-sdk/go v0.0.22 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
