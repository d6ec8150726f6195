// MISC_CHECK's command line, split into words as keepalived does without a shell: blanks
// separate words, double quotes group (and are removed), a backslash escapes the next
// character. No globbing, no variables, no redirections: misc_shell is for that.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::health {

std::vector<std::string> splitCommandLine(std::string_view line);

}  // namespace sluice::health
