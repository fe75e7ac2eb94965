// The Apollo Client of the Segments tab: queries and mutations over HTTP as persisted queries
// (the hash first, the text only when the server does not know it yet), subscriptions over
// graphql-ws, and a normalized cache whose connections page the Relay way.
import { ApolloClient, HttpLink, InMemoryCache, split } from '@apollo/client';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition, relayStylePagination } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';

/** SHA-256 of a query text, as hex: the persisted-query hash. Web Crypto, no library. */
async function sha256(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A client for the API at `httpUrl` (its /graphql endpoint) acting with `key`. The key is typed
 * by the user and kept in memory: it is never part of the build.
 */
export function makeClient(httpUrl, key) {
  const authorization = `Bearer ${key}`;
  const http = createPersistedQueryLink({ sha256 }).concat(
    new HttpLink({ uri: httpUrl, headers: { authorization } }),
  );
  const wsUrl = new URL(httpUrl);
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  wsUrl.pathname = `${wsUrl.pathname.replace(/\/$/, '')}/ws`;
  const ws = new GraphQLWsLink(
    createClient({ url: wsUrl.href, connectionParams: { Authorization: authorization } }),
  );
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    ws,
    http,
  );
  const cache = new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          // Pages of one list are merged into one; a different search or folder is another list.
          influencers: relayStylePagination(['search', 'filter']),
          unassigned: relayStylePagination(),
          segments: relayStylePagination(['search', 'groupId', 'ungrouped']),
        },
      },
      Segment: { fields: { influencers: relayStylePagination() } },
      // An influencer's segments are replaced whole by each answer that carries them.
      Influencer: { fields: { segments: { merge: false } } },
    },
  });
  return new ApolloClient({ link, cache });
}
