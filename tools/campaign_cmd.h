// `mmucheck campaign`, `minimize` and `store` on the command line (the work is
// in campaign/ and replay/minimize.h); tools/mmucheck.cc only hooks them in.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "campaign/campaign.h"

namespace mmucheck {

struct CampaignCli {
  CampaignOptions options;
  std::string out = "campaign-out";
  std::string corpus = "corpus";
  std::string fuzzers = "build/fuzz/fuzz";
};
CLI::App* add_campaign_command(CLI::App& app, CampaignCli& opt);
// Exit status: 0 no new divergence in the store, 1 some, 2 bad usage or DIR.
int run_campaign_command(CampaignCli& opt);

struct MinimizeCli {
  std::string input;
  std::vector<std::string> engines = {"ref", "kvm"};
  std::string out;  // default: INPUT with .min.json
  unsigned budget = 20000;
};
CLI::App* add_minimize_command(CLI::App& app, MinimizeCli& opt);
// Exit status: 0 minimised (written), 1 the engines do not diverge on the case
// (nothing to minimise), 2 bad input or usage.
int run_minimize(const MinimizeCli& opt);

struct StoreCli {
  std::string dir;     // a divergence store, or a campaign DIR holding divergences/
  std::string id;      // mark: the entry
  std::string status;  // mark: new | known | fixed
  std::string reason;
  bool json = false;
};
// `store list DIR` and `store mark DIR ID STATUS --reason TEXT`.
CLI::App* add_store_command(CLI::App& app, StoreCli& opt);
// Exit status: 0 done, 1 `mark` named no such entry, 2 bad usage or store.
int run_store_command(CLI::App& store, const StoreCli& opt);

}  // namespace mmucheck
