// remote_fanout HOST...: runs `uptime` on every host at once over ssh and
// prints one summary line per host, with the failures named, like a small
// `pssh`. A host may be written user@name:port.
#include <cstdio>
#include <ductile/ductile.hpp>
#include <string>
#include <vector>

using namespace ductile;

static remote::host parse_host(std::string text) {
  remote::ssh_options options;
  if (const auto at = text.find('@'); at != std::string::npos) {
    options.user = text.substr(0, at);
    text = text.substr(at + 1);
  }
  if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    options.port = std::stoi(text.substr(colon + 1));
    text = text.substr(0, colon);
  }
  options.host = text;
  options.connect_timeout = std::chrono::seconds(5);
  return remote::host(options);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: remote_fanout HOST...\n");
    return 2;
  }
  std::vector<remote::host> hosts;
  for (int i = 1; i < argc; ++i) hosts.push_back(parse_host(argv[i]));
  // Every host at once: one handle each, then the results in order.
  std::vector<handle> running;
  for (const auto& h : hosts) running.push_back(cmd("uptime").on(h).stdout_capture().stderr_capture().start());
  int failures = 0;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    try {
      std::string line = running[i].wait().stdout_bytes;
      if (!line.empty() && line.back() == '\n') line.pop_back();
      std::printf("%-24s ok    %s\n", hosts[i].label().c_str(), line.c_str());
    } catch (const error& e) {
      ++failures;
      std::string why = e.what();
      if (const auto failed = why.find("failed: "); failed != std::string::npos) why = why.substr(failed + 8);
      std::printf("%-24s FAIL  %s\n", hosts[i].label().c_str(), why.c_str());
    }
  }
  std::printf("%zu hosts, %d failed\n", hosts.size(), failures);
  return failures == 0 ? 0 : 1;
}
