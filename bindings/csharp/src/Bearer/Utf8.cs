using System;
using System.Text;

namespace Bearer
{
    /// <summary>UTF-8 marshalling both ways, done by hand so no runtime default (ANSI) applies.</summary>
    internal static class Utf8
    {
        // Throws on lone surrogates instead of silently writing U+FFFD into a secret.
        static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>
        /// The NUL-terminated UTF-8 form of <paramref name="text"/>. A NUL inside would cut
        /// the C string short and the library would read a different configuration than
        /// the one given, so it is refused here.
        /// </summary>
        internal static byte[] ToNative(string text, string paramName)
        {
            if (text == null) throw new ArgumentNullException(paramName);
            if (text.IndexOf('\0') >= 0)
                throw new ArgumentException("The text contains a NUL character, which a C string cannot carry.", paramName);
            byte[] bytes;
            try
            {
                bytes = new byte[Strict.GetByteCount(text) + 1];
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException("The text is not valid Unicode (a lone surrogate).", paramName, e);
            }
            Strict.GetBytes(text, 0, text.Length, bytes, 0);
            return bytes;
        }

        /// <summary>
        /// Raw bytes passed through unchanged (so invalid UTF-8 reaches the library and
        /// comes back as its invalid-argument problem), plus the terminating NUL.
        /// </summary>
        internal static byte[] ToNative(byte[] utf8, string paramName)
        {
            if (utf8 == null) throw new ArgumentNullException(paramName);
            if (Array.IndexOf(utf8, (byte)0) >= 0)
                throw new ArgumentException("The configuration contains a NUL byte, which a C string cannot carry.", paramName);
            var bytes = new byte[utf8.Length + 1];
            Buffer.BlockCopy(utf8, 0, bytes, 0, utf8.Length);
            return bytes;
        }

        /// <summary>Copies a NUL-terminated UTF-8 string; the caller still owns (and frees) it.</summary>
        internal static unsafe string FromNative(IntPtr text)
        {
            if (text == IntPtr.Zero) return null;
            byte* p = (byte*)text;
            int length = 0;
            while (p[length] != 0) length++;
            return Encoding.UTF8.GetString(p, length);
        }
    }
}
