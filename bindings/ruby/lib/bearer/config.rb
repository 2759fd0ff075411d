# frozen_string_literal: true

require "json"
require "uri"

module Bearer
  # Turns what callers pass as configuration into the bytes the library reads.
  # Validation is the library's job; this only refuses what cannot be passed
  # through C at all (nil, other types, embedded NUL) and keeps invalid UTF-8
  # byte for byte so that the library reports it as invalid-argument.
  module Config
    module_function

    # +config+: a JSON String or a Hash (Symbol or String keys). +name+ is
    # the argument's name in error messages (also "request" for a stored
    # authorization request).
    def to_json_bytes(config, name = "config")
      case config
      when nil
        raise TypeError, "#{name} must be a Hash or a JSON String, not nil"
      when String
        text = config
      when Hash
        text = generate(config)
      else
        if config.respond_to?(:to_hash)
          text = generate(config.to_hash)
        elsif config.respond_to?(:to_str)
          text = config.to_str
        else
          raise TypeError, "#{name} must be a Hash or a JSON String, not #{config.class}"
        end
      end
      without_nul(utf8_bytes(text), name)
    end

    # A plain text argument (a redirect URL): a String, or a URI.
    def to_text_bytes(value, name)
      text = case value
             when String then value
             when URI::Generic then value.to_s
             else
               raise TypeError, "#{name} must be a String, not #{value.nil? ? 'nil' : value.class}" \
                 unless value.respond_to?(:to_str)

               value.to_str
             end
      without_nul(utf8_bytes(text), name)
    end

    def without_nul(text, name)
      raise ArgumentError, "#{name} contains a NUL byte" if text.b.include?("\0")

      text
    end

    # UTF-8, US-ASCII and binary strings go as they are; other encodings are
    # converted, since the library only reads UTF-8.
    def utf8_bytes(text)
      case text.encoding
      when Encoding::UTF_8, Encoding::US_ASCII, Encoding::BINARY then text
      else text.encode(Encoding::UTF_8)
      end
    end

    def generate(hash)
      JSON.generate(hash)
    rescue JSON::GeneratorError, Encoding::UndefinedConversionError
      # JSON refuses invalid UTF-8; write the same document with the bytes
      # kept, so the library gives its usual invalid-argument problem.
      raw(hash)
    end

    # A minimal JSON writer for the fallback above: strings keep their bytes.
    def raw(value)
      case value
      when Hash then "{#{value.map { |k, v| "#{raw(k.to_s)}:#{raw(v)}" }.join(',')}}".b
      when Array then "[#{value.map { |v| raw(v) }.join(',')}]".b
      when Symbol then raw(value.to_s)
      when String
        escaped = value.b.gsub(/["\\\x00-\x1f]/n) { |c| c == '"' || c == "\\" ? "\\#{c}" : format("\\u%04x", c.ord) }
        "\"#{escaped}\"".b
      else JSON.generate(value).b
      end
    end
  end
end
