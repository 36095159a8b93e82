// The sluice-http-server program: it prints its URL, serves, stops on SIGTERM or SIGINT
// with exit status 0, and refuses bad flags with a message and a non-zero status.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "curl_fetch.hpp"

extern char** environ;

namespace sluice {
namespace {

struct Child {
  pid_t pid = -1;
  FILE* output = nullptr;  // the child's stdout and stderr
};

Child spawn_tool(std::vector<std::string> args) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  args.insert(args.begin(), SLUICE_HTTP_SERVER_TOOL);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  Child child;
  const int rc = posix_spawn(&child.pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return {};
  }
  child.output = ::fdopen(pipe_fds[0], "r");
  return child;
}

std::string read_line(FILE* file) {
  std::string line;
  for (int c = std::fgetc(file); c != EOF && c != '\n'; c = std::fgetc(file)) {
    line.push_back(static_cast<char>(c));
  }
  return line;
}

std::string read_rest(FILE* file) {
  std::string text;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file))
    text.push_back(static_cast<char>(c));
  return text;
}

int wait_exit_status(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(SluiceHttpServerTool, ServesUntilTerminated) {
  for (const int stop_signal : {SIGTERM, SIGINT}) {
    Child child = spawn_tool({"--port", "0"});
    ASSERT_GT(child.pid, 0);
    const std::string banner = read_line(child.output);
    const auto at = banner.find("http://127.0.0.1:");
    ASSERT_NE(at, std::string::npos) << banner;
    const std::string url = banner.substr(at, banner.find(' ', at) - at);

    const auto result = test::fetch(url + "/bytes?n=52");
    EXPECT_EQ(result.status, 200) << result.error;
    EXPECT_EQ(result.body, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");

    ::kill(child.pid, stop_signal);
    const std::string rest = read_rest(child.output);
    EXPECT_EQ(wait_exit_status(child.pid), 0) << rest;
    EXPECT_NE(rest.find("served 1 requests"), std::string::npos) << rest;
    std::fclose(child.output);
  }
}

TEST(SluiceHttpServerTool, RefusesBadFlags) {
  const std::vector<std::vector<std::string>> bad = {
      {"--port", "http"}, {"--port", "70000"}, {"--root", "/nonexistent/sluice"}, {"--bogus"}};
  for (const auto& args : bad) {
    Child child = spawn_tool(args);
    ASSERT_GT(child.pid, 0);
    const std::string output = read_rest(child.output);
    EXPECT_NE(wait_exit_status(child.pid), 0) << args[0];
    EXPECT_FALSE(output.empty()) << args[0];
    std::fclose(child.output);
  }
}

TEST(SluiceHttpServerTool, ReportsAPortInUse) {
  Child first = spawn_tool({"--port", "0"});
  ASSERT_GT(first.pid, 0);
  const std::string banner = read_line(first.output);
  const auto colon = banner.rfind(':', banner.find(' ', banner.find("http://")));
  const std::string port = banner.substr(colon + 1, banner.find(' ', colon) - colon - 1);

  Child second = spawn_tool({"--port", port});
  ASSERT_GT(second.pid, 0);
  const std::string output = read_rest(second.output);
  EXPECT_EQ(wait_exit_status(second.pid), 1);
  EXPECT_NE(output.find("cannot listen"), std::string::npos) << output;
  std::fclose(second.output);

  ::kill(first.pid, SIGTERM);
  read_rest(first.output);
  EXPECT_EQ(wait_exit_status(first.pid), 0);
  std::fclose(first.output);
}

}  // namespace
}  // namespace sluice
