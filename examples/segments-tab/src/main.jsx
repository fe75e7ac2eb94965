import { ApolloProvider } from '@apollo/client';
import { useState } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from './App.jsx';
import { makeClient } from './client.js';

/**
 * Asks for the API's address and an API key (made with `segments-api api-key create`), then
 * shows the Segments tab. The key lives in this page's memory only: it is not in the build, and
 * reloading the page asks for it again.
 */
function Connect() {
  const [client, setClient] = useState(null);
  const [url, setUrl] = useState(new URLSearchParams(location.search).get('api') ?? 'http://127.0.0.1:8000/graphql');
  const [key, setKey] = useState('');
  if (client) {
    return (
      <ApolloProvider client={client}>
        <App />
      </ApolloProvider>
    );
  }
  return (
    <form
      className="bar"
      style={{ padding: '1rem' }}
      onSubmit={(event) => {
        event.preventDefault();
        setClient(makeClient(url.trim(), key.trim()));
      }}
    >
      <label>
        API <input name="api" value={url} onChange={(e) => setUrl(e.target.value)} size={40} />
      </label>
      <label>
        Key <input name="key" type="password" value={key} onChange={(e) => setKey(e.target.value)} size={50} />
      </label>
      <button type="submit" disabled={!key.trim()}>
        Open
      </button>
    </form>
  );
}

createRoot(document.getElementById('root')).render(<Connect />);
