// TEST-ONLY: an emulation of the Linux configfs-tsm report interface
// (Documentation/ABI/testing/configfs-tsm-report: /sys/kernel/config/tsm/report/<entry>/
// {inblob, outblob, auxblob, provider, generation, privlevel}) in a plain directory. The kernel
// makes outblob when it is read; a plain directory cannot, so this server polls the directory and
// writes outblob (and the other attributes) as files, each atomically. docs/testgen.md gives the
// protocol a client follows.
#ifndef TEE_VERIFIER_TESTING_TESTGEN_TSM_SERVER_H_
#define TEE_VERIFIER_TESTING_TESTGEN_TSM_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/testing/tdx_test_tee.h"
#include "verifier/testing/snp_test_tee.h"
#include "verifier/testing/testgen/profile.h"

namespace teeverify::testgen {

enum class TsmProvider { kTdxGuest, kSevGuest };

class TsmServer {
 public:
  static absl::StatusOr<std::unique_ptr<TsmServer>> Create(std::string dir, TsmProvider provider,
                                                           Profile profile);

  // Polls every `interval` until StopRequested().
  void Run(absl::Duration interval);
  // One pass over the directory: announces new entries, answers every new inblob.
  void PollOnce();

 private:
  // What identifies one write of inblob (a rewrite changes the mtime, a replacement the inode).
  struct Stamp {
    uint64_t inode = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const Stamp& o) const {
      return inode == o.inode && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
    }
  };
  struct Entry {
    uint64_t generation = 0;
    std::optional<Stamp> answered;  // the inblob last answered
    std::optional<Stamp> pending;   // a short inblob seen once, answered when seen unchanged
    std::optional<std::string> privlevel;  // the privlevel text last answered with
  };

  TsmServer(std::string dir, TsmProvider provider, Profile profile)
      : dir_(std::move(dir)), provider_(provider), profile_(std::move(profile)) {}

  // Returns false when the entry is gone (the client removed it) and its state must be dropped.
  bool Serve(const std::string& name, Entry* entry);
  bool Announce(const std::string& path, Entry* entry);
  bool Answer(const std::string& path, const std::string& inblob, Entry* entry);
  // The outblob and auxblob for `inblob`, or the text of the error file.
  absl::StatusOr<std::pair<std::string, std::string>> Generate(
      const std::string& inblob, const std::optional<std::string>& privlevel);

  const std::string dir_;
  const TsmProvider provider_;
  const Profile profile_;
  std::unique_ptr<testing::TdxTestTee> tdx_;
  std::unique_ptr<testing::SnpTestTee> snp_;
  std::map<std::string, Entry> entries_;
};

}  // namespace teeverify::testgen

#endif  // TEE_VERIFIER_TESTING_TESTGEN_TSM_SERVER_H_
