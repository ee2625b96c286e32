// `mmucheck campaign` and `mmucheck minimize` on the command line (the work is
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

}  // namespace mmucheck
