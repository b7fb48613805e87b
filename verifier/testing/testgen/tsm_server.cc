#include "verifier/testing/testgen/tsm_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "verifier/common/status_macros.h"
#include "verifier/testing/testgen/commands.h"
#include "verifier/testing/testgen/file_util.h"
#include "verifier/testing/testgen/stop_signal.h"
#include "verifier/testing/testgen/test_platforms.h"

namespace teeverify::testgen {
namespace {

namespace fs = std::filesystem;

constexpr size_t kInblobMax = 64;  // TSM_INBLOB_MAX in include/linux/tsm.h
constexpr absl::Duration kPollInterval = absl::Milliseconds(5);

absl::string_view ProviderName(TsmProvider p) {
  return p == TsmProvider::kTdxGuest ? "tdx_guest" : "sev_guest";
}

}  // namespace

absl::StatusOr<std::unique_ptr<TsmServer>> TsmServer::Create(std::string dir, TsmProvider provider,
                                                             Profile profile) {
  std::unique_ptr<TsmServer> server(new TsmServer(std::move(dir), provider, std::move(profile)));
  if (provider == TsmProvider::kTdxGuest) {
    ASSIGN_OR_RETURN(server->tdx_, NewTdxTee(absl::Now()));
  } else {
    ASSIGN_OR_RETURN(server->snp_, NewSnpTee(server->profile_.sev_snp, absl::Now()));
  }
  return server;
}

void TsmServer::Run(absl::Duration interval) {
  while (!StopRequested()) {
    PollOnce();
    absl::SleepFor(interval);
  }
}

void TsmServer::PollOnce() {
  std::set<std::string> present;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (name.empty() || name[0] == '.' || !it->is_directory(type_ec)) continue;
    present.insert(name);
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = present.count(it->first) ? std::next(it) : entries_.erase(it);
  }
  for (const std::string& name : present) {
    auto [it, fresh] = entries_.try_emplace(name);
    Entry* entry = &it->second;
    const bool alive = (!fresh || Announce(Join(dir_, name), entry)) && Serve(name, entry);
    if (!alive) entries_.erase(name);
  }
}

// What configfs shows right after mkdir: generation 0, and the provider (written last, so that a
// client that sees the provider sees the generation too).
bool TsmServer::Announce(const std::string& path, Entry* entry) {
  if (absl::StatusOr<std::string> seen = ReadSmallFile(Join(path, "generation"), 64); seen.ok()) {
    // A restarted server: count on from what clients have seen.
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*seen), &entry->generation)) {
      entry->generation = 0;
    }
  } else {
    const absl::Status generation = WriteFileAtomically(Join(path, "generation"), "0\n");
    if (absl::IsNotFound(generation)) return false;
    if (!generation.ok()) std::cerr << "serve-tsm: " << generation.message() << "\n";
  }
  const absl::Status provider =
      WriteFileAtomically(Join(path, "provider"), absl::StrCat(ProviderName(provider_), "\n"));
  if (!provider.ok()) std::cerr << "serve-tsm: " << provider.message() << "\n";
  return !absl::IsNotFound(provider);
}

bool TsmServer::Serve(const std::string& name, Entry* entry) {
  const std::string path = Join(dir_, name);
  struct stat st;
  if (stat(Join(path, "inblob").c_str(), &st) != 0 || st.st_size == 0) return true;  // not yet
  const Stamp stamp{static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                    st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                    st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec};
  if (entry->answered && *entry->answered == stamp) return true;
  // A short inblob may be a write still in progress: answer it once it is seen unchanged.
  if (stamp.size < kInblobMax && !(entry->pending && *entry->pending == stamp)) {
    entry->pending = stamp;
    return true;
  }
  absl::StatusOr<std::string> inblob = ReadSmallFile(Join(path, "inblob"), 1 << 16);
  if (!inblob.ok()) return true;  // removed meanwhile; the next poll decides
  entry->answered = stamp;
  entry->pending.reset();
  return Answer(path, *inblob, entry);
}

bool TsmServer::Answer(const std::string& path, const std::string& inblob, Entry* entry) {
  std::optional<std::string> privlevel;
  if (absl::StatusOr<std::string> text = ReadSmallFile(Join(path, "privlevel"), 64); text.ok()) {
    privlevel = std::string(absl::StripAsciiWhitespace(*text));
  }
  // configfs counts every attribute write; this server sees the inblob and privlevel changes.
  entry->generation += 1 + (privlevel != entry->privlevel ? 1 : 0);
  entry->privlevel = privlevel;
  for (const char* stale : {"outblob", "auxblob", "error"}) unlink(Join(path, stale).c_str());

  const auto blobs = Generate(inblob, privlevel);
  std::vector<std::pair<std::string, std::string>> writes;
  if (blobs.ok() && !blobs->second.empty()) writes.emplace_back("auxblob", blobs->second);
  writes.emplace_back("provider", absl::StrCat(ProviderName(provider_), "\n"));
  writes.emplace_back("generation", absl::StrCat(entry->generation, "\n"));
  // Last: the file the client waits for.
  if (blobs.ok()) {
    writes.emplace_back("outblob", blobs->first);
  } else {
    writes.emplace_back("error", absl::StrCat(blobs.status().message(), "\n"));
  }
  for (const auto& [name, bytes] : writes) {
    const absl::Status s = WriteFileAtomically(Join(path, name), bytes);
    if (absl::IsNotFound(s)) return false;
    if (!s.ok()) std::cerr << "serve-tsm: " << s.message() << "\n";
  }
  std::cerr << "serve-tsm: " << fs::path(path).filename().string() << " generation "
            << entry->generation << ": "
            << (blobs.ok() ? absl::StrCat("outblob ", blobs->first.size(), " bytes")
                           : absl::StrCat("error: ", blobs.status().message()))
            << "\n";
  return true;
}

absl::StatusOr<std::pair<std::string, std::string>> TsmServer::Generate(
    const std::string& inblob, const std::optional<std::string>& privlevel) {
  if (inblob.size() > kInblobMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("EINVAL: inblob holds at most 64 bytes, got ", inblob.size()));
  }
  ByteArray<64> report_data = {};
  std::memcpy(report_data.data(), inblob.data(), inblob.size());  // zero-padded, as sev_guest
  if (provider_ == TsmProvider::kTdxGuest) {
    if (inblob.size() != kInblobMax) {  // tdx_guest refuses anything but 64 bytes
      return absl::InvalidArgumentError(
          absl::StrCat("EINVAL: tdx_guest needs exactly 64 bytes of inblob, got ", inblob.size()));
    }
    ASSIGN_OR_RETURN(std::string quote, MakeTdxQuote(*tdx_, profile_.tdx, report_data));
    return std::make_pair(std::move(quote), std::string());
  }
  std::optional<uint32_t> vmpl;
  if (privlevel) {
    uint32_t level = 0;
    if (!absl::SimpleAtoi(*privlevel, &level) || level > 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("EINVAL: privlevel \"", *privlevel, "\" is not 0..3"));
    }
    vmpl = level;
  }
  ASSIGN_OR_RETURN(SnpEvidenceParts parts,
                   MakeSnpEvidence(*snp_, profile_.sev_snp, report_data, vmpl));
  return std::make_pair(std::move(parts.report), std::move(parts.cert_table));
}

absl::Status RunServeTsm(int argc, char** argv) {
  InstallStopHandlers();  // before anything slow, so that an early SIGTERM still ends cleanly
  ASSIGN_OR_RETURN(const Args args, ParseArgs(argc, argv, {"--provider", "--profile"}, 1));
  const std::string provider_name = args.Get("--provider").value_or("tdx_guest");
  TsmProvider provider;
  if (provider_name == "tdx_guest") {
    provider = TsmProvider::kTdxGuest;
  } else if (provider_name == "sev_guest") {
    provider = TsmProvider::kSevGuest;
  } else {
    return absl::InvalidArgumentError("--provider must be tdx_guest or sev_guest");
  }
  ASSIGN_OR_RETURN(Profile profile, LoadProfileOption(args));
  const std::string& dir = args.positional[0];
  RETURN_IF_ERROR(MakeDirectories(dir));
  ASSIGN_OR_RETURN(auto server, TsmServer::Create(dir, provider, std::move(profile)));
  std::cerr << "serve-tsm: emulating configfs-tsm (" << provider_name << ") in " << dir << "\n";
  server->Run(kPollInterval);
  std::cerr << "serve-tsm: stopped\n";
  return absl::OkStatus();
}

}  // namespace teeverify::testgen
