#!/usr/bin/env bash
# Fetches the scripts and styles of the GraphiQL page from npm, at the versions pinned below, into
# this folder: the server embeds them (src/http/graphiql_assets.rs), so that GraphiQL works with
# no network. Run it to move to other versions; `cargo test` checks that the page the server
# serves asks nothing of any other host.
set -euo pipefail
cd "$(dirname "$0")"
GRAPHIQL=4.1.2
# The Explorer plugin release made for GraphiQL 4 (its @graphiql/react matches GraphiQL's).
EXPLORER=4.0.6
REACT=18.3.1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  npm pack --silent "graphiql@$GRAPHIQL" "@graphiql/plugin-explorer@$EXPLORER" "react@$REACT" \
    "react-dom@$REACT" >/dev/null
  for tarball in *.tgz; do
    mkdir "${tarball%.tgz}"
    tar xzf "$tarball" -C "${tarball%.tgz}"
  done
)
# The source map comment names a file that is not shipped (a browser would ask for it).
sed '/^\/\/# sourceMappingURL=/d' "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" > graphiql.min.js
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" graphiql.min.css
explorer="$work/graphiql-plugin-explorer-$EXPLORER/package"
sed '/^\/\/# sourceMappingURL=/d' "$explorer/dist/index.umd.js" > plugin-explorer.umd.js
cp "$explorer/dist/style.css" plugin-explorer.css
cp "$work/react-$REACT/package/umd/react.production.min.js" react.production.min.js
cp "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" react-dom.production.min.js
{
  echo "The GraphiQL page of segments-api embeds these builds, under these licences."
  echo
  echo "== graphiql $GRAPHIQL (graphiql.min.js, graphiql.min.css) =="
  echo
  cat "$work/graphiql-$GRAPHIQL/package/LICENSE"
  echo
  echo "== @graphiql/plugin-explorer $EXPLORER (plugin-explorer.umd.js, plugin-explorer.css) =="
  echo
  echo "MIT License, as its package.json says (the package ships no licence file of its own);"
  echo "from the GraphiQL repository, whose licence is the one above."
  echo
  echo "== react $REACT (react.production.min.js) and react-dom $REACT (react-dom.production.min.js) =="
  echo
  cat "$work/react-$REACT/package/LICENSE"
} > LICENSES.txt
echo "GraphiQL $GRAPHIQL, its Explorer $EXPLORER and React $REACT are in $(pwd)"
