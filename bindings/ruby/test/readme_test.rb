# frozen_string_literal: true

require "setup"
require "tmpdir"

# Runs the first ```ruby block of README.md as written, in a child process,
# in a folder holding cobuilder_credentials.json pointed at the local server.
class ReadmeTest < Minitest::Test
  README = File.expand_path("../README.md", __dir__)

  def test_readme_example_runs_as_written
    example = File.read(README)[/```ruby\n(.*?)```/m, 1]
    refute_nil example, "no ```ruby block in README.md"
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "cobuilder_credentials.json"), JSON.pretty_generate(cobuilder_config))
      (out, err, status), delta = counting { ruby_subprocess(example, chdir: dir) }
      assert status.success?, err
      assert_match(/\ABearer eyJ[\w-]+\.[\w-]+\.[\w-]+\n\z/, out)
      assert_equal 1, delta["cobuilder"]
    end
  end
end
