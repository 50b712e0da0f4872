package main

import (
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"aadcready/inventory"
	"aadcready/results"
)

// addShardFlags adds scan's --shard, --shard-from-env and --shard-count.
func addShardFlags(f *pflag.FlagSet) {
	f.String("shard", "", "scan only shard i of N (i/N, 0-based): the hosts whose name hashes to i; runs of every shard are joined with report RUN...")
	f.String("shard-from-env", "", "read the shard index i from this environment variable (Kubernetes: JOB_COMPLETION_INDEX); needs --shard-count")
	f.Int("shard-count", 0, "with --shard-from-env: the number of shards N")
}

// pickShard applies --shard or --shard-from-env to inv: the hosts of the
// shard (nil shard: no sharding). A shard may be empty; its run is still
// written, so that the join knows it was scanned.
func pickShard(v *viper.Viper, inv *inventory.Inventory) (*inventory.Inventory, *results.Shard, error) {
	spec, env, count := v.GetString("shard"), v.GetString("shard-from-env"), v.GetInt("shard-count")
	var sh results.Shard
	switch {
	case spec == "" && env == "":
		if count != 0 {
			return nil, nil, usage("--shard-count goes with --shard-from-env")
		}
		return inv, nil, nil
	case spec != "" && env != "":
		return nil, nil, usage("give --shard i/N or --shard-from-env VAR with --shard-count N, not both")
	case spec != "":
		var err error
		if sh, err = results.ParseShard(spec); err != nil {
			return nil, nil, usage("--shard: %v", err)
		}
	default:
		val, ok := os.LookupEnv(env)
		if !ok {
			return nil, nil, usage("--shard-from-env: %s is not set", env)
		}
		i, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil {
			return nil, nil, usage("--shard-from-env: %s=%q is not a shard index", env, val)
		}
		if count < 1 {
			return nil, nil, usage("--shard-from-env needs --shard-count N (the number of shards)")
		}
		sh = results.Shard{Index: i, Count: count}
		if err := sh.Check(); err != nil {
			return nil, nil, usage("--shard-from-env %s: %v", env, err)
		}
	}
	var names []string
	for _, h := range inv.Hosts {
		if sh.Has(h.Name) {
			names = append(names, h.Name)
		}
	}
	picked, _ := inv.Only(names)
	return picked, &sh, nil
}

// recordPositions gives each host of a shard's run its place in the whole
// inventory (order), so the joined shards read like one scan.
func recordPositions(run *results.Run, order []string) {
	pos := make(map[string]int, len(order))
	for i, n := range order {
		pos[strings.ToLower(n)] = i + 1
	}
	for i := range run.Hosts {
		run.Hosts[i].InventoryPos = pos[strings.ToLower(run.Hosts[i].Name)]
	}
}
