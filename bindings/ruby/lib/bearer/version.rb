# frozen_string_literal: true

module Bearer
  # Version of this gem. The native library reports its own with Bearer.version.
  VERSION = "0.1.0"
end
