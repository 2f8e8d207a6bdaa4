// Camera URLs and their credentials: putting them in (for ffmpeg), taking them out (for requests and logs).

/**
 * The URL with `username:password@` in it, both percent-encoded (ffmpeg decodes them), unless the
 * URL already carries credentials or no user name is given. Returns the input unchanged when it
 * does not parse as a URL.
 */
export function withCredentials(uri: string, username: string | undefined, password: string | undefined): string {
  if (!username) return uri;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return uri;
  }
  if (url.username || url.password || !url.host) return uri;
  // Assembled by hand: the URL setters leave some characters (such as "!" or "'") unencoded, and an
  // encodeURIComponent result survives their own encoding pass unchanged anyway.
  const userinfo = `${encodeURIComponent(username)}${password ? `:${encodeURIComponent(password)}` : ''}@`;
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)/i, (scheme) => `${scheme}${userinfo}`);
}

/** The URL's own credentials, percent-decoded; empty when it has none or does not parse. */
export function credentialsOf(uri: string): { username?: string; password?: string } {
  try {
    const url = new URL(uri);
    const decode = (s: string): string => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    return { ...(url.username ? { username: decode(url.username) } : {}), ...(url.password ? { password: decode(url.password) } : {}) };
  } catch {
    return {};
  }
}

/** The URL without its credentials: what requests carry on their request line, and all that may be logged. */
export function withoutCredentials(uri: string): string {
  try {
    const url = new URL(uri);
    if (!url.username && !url.password) return uri;
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    // Not a URL: still cut anything up to the last "@" after "//" (a password may hold "/" or spaces); losing a path is cheaper than leaking a password.
    return uri.replace(/\/\/.*@/, '//');
  }
}
