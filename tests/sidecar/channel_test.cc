// tee-verifierd's unix socket as a channel (docs/sidecar.md, --listen unix:): other users cannot
// connect even where they can reach the file; a socket in use by a running sidecar is not taken
// over; a stale socket of a killed sidecar is replaced; anything else at the path is left alone;
// a socket directory that someone else could write (group/others, or another owner) is refused.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/sidecar/sidecar_process.h"
#include "tests/sidecar/test_platform.h"
#include "verifier/io/files.h"

namespace teeverify::testing {
namespace {

constexpr uid_t kNobody = 65534;

struct ConnectResult {
  int stage = 0;  // 1: could not become nobody, 2: could not stat the socket, 3: connect ran
  int error = 0;  // errno of that stage; for stage 3, 0 when connect() succeeded
};

// Forks a child that drops to uid/gid 65534, checks that it can reach `path` (stat), and
// connect()s to it. Only async-signal-safe calls run in the child.
ConnectResult ConnectAsNobody(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  EXPECT_LT(path.size(), sizeof(addr.sun_path));
  memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof(addr.sun_path) - 1));
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    ConnectResult r;
    struct stat st;
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0 ||
        geteuid() != kNobody || getegid() != kNobody) {
      r = {1, errno};
    } else if (stat(path.c_str(), &st) != 0) {
      r = {2, errno};
    } else {
      const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
      r = {3, connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 ? 0 : errno};
    }
    (void)!write(fds[1], &r, sizeof(r));
    _exit(0);
  }
  close(fds[1]);
  ConnectResult r;
  if (read(fds[0], &r, sizeof(r)) != sizeof(r)) r = {};
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return r;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 ? st.st_mode : 0;
}

TEST(SidecarChannelTest, UnixSocketRefusesOtherUsers) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to run a client as uid 65534 (nobody); the CI runs as root";
  }
  // A directory others may traverse (0755), so that only the socket's own mode protects it.
  const std::string dir = MakeTempDir();
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  const std::string socket = dir + "/s.sock";
  SidecarProcess sidecar({"--listen=unix:" + socket}, "unix:" + socket);
  ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
  EXPECT_EQ(ModeOf(dir) & 07777, 0755u);
  ASSERT_TRUE(S_ISSOCK(ModeOf(socket)));
  EXPECT_EQ(ModeOf(socket) & 07777, 0600u);

  ConnectResult r = ConnectAsNobody(socket);
  ASSERT_EQ(r.stage, 3) << "child failed before connect: " << strerror(r.error);
  EXPECT_EQ(r.error, EACCES) << "connect as nobody: " << (r.error ? strerror(r.error) : "connected");

  // The probe can see an open socket: opened to all, nobody connects.
  ASSERT_EQ(chmod(socket.c_str(), 0666), 0);
  r = ConnectAsNobody(socket);
  EXPECT_EQ(r.stage, 3);
  EXPECT_EQ(r.error, 0) << strerror(r.error);
  ASSERT_EQ(chmod(socket.c_str(), 0600), 0);

  // The owner is served.
  EXPECT_EQ(CallInfo(*sidecar.Stub()).version().empty(), false);
}

TEST(SidecarChannelTest, SocketDirectoryItCreatesIsOwnerOnly) {
  const std::string dir = MakeTempDir();
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  const std::string socket = dir + "/run/tee-verifierd/s.sock";
  SidecarProcess sidecar({"--listen=unix:" + socket}, "unix:" + socket);
  ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
  EXPECT_EQ(ModeOf(dir + "/run/tee-verifierd") & 07777, 0700u);
  EXPECT_EQ(ModeOf(socket) & 07777, 0600u);
  if (geteuid() == 0) {
    const ConnectResult r = ConnectAsNobody(socket);
    // The 0700 directory stops nobody before the socket does.
    EXPECT_EQ(r.stage, 2);
    EXPECT_EQ(r.error, EACCES) << strerror(r.error);
  }
}

// Whoever can write the socket's directory can replace the socket with a fake sidecar, so the
// sidecar refuses to start there, naming the directory and its mode, and creates nothing.
TEST(SidecarChannelTest, SocketDirectoryWritableByOthersRefusesToStart) {
  for (const mode_t mode : {0777, 01777, 0770, 0702}) {
    const std::string dir = MakeTempDir();
    ASSERT_EQ(chmod(dir.c_str(), mode), 0);
    SCOPED_TRACE(dir);
    const std::string socket = dir + "/s.sock";
    SidecarProcess sidecar({"--listen=unix:" + socket}, "unix:" + socket);
    EXPECT_EQ(sidecar.WaitExit(), 1);
    char octal[8];
    snprintf(octal, sizeof(octal), "%04o", mode);
    const std::string message = absl::StrCat("the socket directory ", dir,
                                             " is writable by group or others (mode ", octal, ")");
    EXPECT_TRUE(absl::StrContains(sidecar.Log(), message)) << sidecar.Log();
    EXPECT_TRUE(absl::StrContains(sidecar.Stderr(), message)) << sidecar.Stderr();
    EXPECT_FALSE(absl::StrContains(sidecar.Log(), R"("event":"listening")"));
    EXPECT_FALSE(std::filesystem::exists(socket));
    EXPECT_EQ(ModeOf(dir) & 07777, mode) << "the directory is left as it was";
  }
}

TEST(SidecarChannelTest, SocketDirectoryOfAnotherUserRefusesToStart) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to uid 65534 (nobody)";
  const std::string dir = MakeTempDir();  // 0700
  ASSERT_EQ(chown(dir.c_str(), kNobody, static_cast<gid_t>(-1)), 0);
  const std::string socket = dir + "/s.sock";
  SidecarProcess sidecar({"--listen=unix:" + socket}, "unix:" + socket);
  EXPECT_EQ(sidecar.WaitExit(), 1);
  EXPECT_TRUE(absl::StrContains(
      sidecar.Log(), absl::StrCat("the socket directory ", dir, " (mode 0700) is owned by uid 65534, "
                                  "not by tee-verifierd's user (uid 0) or root")))
      << sidecar.Log();
  EXPECT_FALSE(std::filesystem::exists(socket));
}

TEST(SidecarChannelTest, OwnerOnlySocketDirectoryServes) {
  for (const mode_t mode : {0700, 0755, 0711}) {
    const std::string dir = MakeTempDir();
    ASSERT_EQ(chmod(dir.c_str(), mode), 0);
    const std::string socket = dir + "/s.sock";
    SidecarProcess sidecar({"--listen=unix:" + socket}, "unix:" + socket);
    ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
    EXPECT_FALSE(CallInfo(*sidecar.Stub()).version().empty());
    EXPECT_EQ(ModeOf(dir) & 07777, mode);
  }
}

TEST(SidecarChannelTest, SocketInUseByARunningSidecarIsNotTakenOver) {
  const std::string socket = MakeTempDir() + "/s.sock";
  SidecarProcess first({"--listen=unix:" + socket}, "unix:" + socket);
  ASSERT_TRUE(first.WaitReady()) << first.Log();
  ino_t inode = 0;
  {
    struct stat st;
    ASSERT_EQ(stat(socket.c_str(), &st), 0);
    inode = st.st_ino;
  }

  SidecarProcess second({"--listen=unix:" + socket}, "unix:" + socket);
  EXPECT_EQ(second.WaitExit(), 1);
  const std::string message =
      absl::StrCat(socket, " is in use by a running server (another tee-verifierd?); stop it first");
  EXPECT_TRUE(absl::StrContains(second.Log(), message)) << second.Log();
  EXPECT_TRUE(absl::StrContains(second.Stderr(), message)) << second.Stderr();
  EXPECT_FALSE(absl::StrContains(second.Log(), R"("event":"listening")"));

  // The first still owns the same socket file and serves.
  struct stat st;
  ASSERT_EQ(stat(socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, inode);
  EXPECT_FALSE(CallInfo(*first.Stub()).version().empty());
  EXPECT_EQ(first.Stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(socket));
}

TEST(SidecarChannelTest, StaleSocketOfAKilledSidecarIsReplaced) {
  const std::string socket = MakeTempDir() + "/s.sock";
  SidecarProcess killed({"--listen=unix:" + socket}, "unix:" + socket);
  ASSERT_TRUE(killed.WaitReady()) << killed.Log();
  killed.Kill();
  ASSERT_TRUE(S_ISSOCK(ModeOf(socket))) << "a killed sidecar leaves its socket file behind";

  SidecarProcess next({"--listen=unix:" + socket}, "unix:" + socket);
  ASSERT_TRUE(next.WaitReady()) << next.Log();
  EXPECT_EQ(CountLines(next.Log(), absl::StrCat(R"("event":"stale_socket_replaced","socket":")",
                                                socket, "\"")),
            1)
      << next.Log();
  EXPECT_EQ(ModeOf(socket) & 07777, 0600u);
  EXPECT_FALSE(CallInfo(*next.Stub()).version().empty());
}

TEST(SidecarChannelTest, NonSocketAtTheSocketPathIsLeftAlone) {
  const std::string path = MakeTempDir() + "/s.sock";
  WriteFile(path, "not a socket");
  SidecarProcess sidecar({"--listen=unix:" + path}, "unix:" + path);
  EXPECT_EQ(sidecar.WaitExit(), 1);
  EXPECT_TRUE(absl::StrContains(sidecar.Log(), path + " exists and is not a socket")) << sidecar.Log();
  EXPECT_TRUE(S_ISREG(ModeOf(path)));
  absl::StatusOr<std::string> kept = ReadFileBytes(path);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, "not a socket");
}

}  // namespace
}  // namespace teeverify::testing
