// The scripts' own HTTP calls to the server under test: one GraphQL request with the key, its
// `data`, or an error for anything but a 200 without errors.

/** A function that runs `query` with `variables` on `url` as `key`, returning `data`. */
export function makeGql(url, key) {
  return async function gql(query, variables) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    if (response.status !== 200 || body.errors) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body)}`);
    return body.data;
  };
}
