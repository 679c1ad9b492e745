#!/usr/bin/env bash
# Builds a Cyrus httpd with WebSocket and EventSource push, from Debian's own source package of the
# installed cyrus-imapd, and caches it. Debian's build lacks push only because its libwslay-dev has
# no pkg-config file; with one, the same sources build an httpd that links against the installed
# libcyrus libraries. Prints the path of the httpd on stdout.
#
# Cache: $PETREL_CACHE (default ~/.cache/petrel)/cyrus-push-httpd-<version>/httpd
set -euo pipefail
log() { echo "build-push-httpd: $*" >&2; }

version=$(dpkg-query -W -f='${Version}' cyrus-common)
cache=${PETREL_CACHE:-$HOME/.cache/petrel}/cyrus-push-httpd-$version
if [ -x "$cache/httpd" ]; then
  echo "$cache/httpd"
  exit 0
fi
upstream=${version%%-*}
mkdir -p "$cache/src"
cd "$cache/src"

# Source: apt's deb-src index. The security pool lacks the orig tarball, so take the installed
# revision's Debian patches wherever they are and the orig from whichever revision has it.
if ! grep -rqs 'deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "adding Debian's deb-src index"
  sed -e 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > /etc/apt/sources.list.d/petrel-deb-src.sources
  apt-get update -qq
fi
if [ ! -f "cyrus-imapd_${upstream}.orig.tar.gz" ] || ! ls cyrus-imapd_"${version}".debian.tar.* >/dev/null 2>&1; then
  log "fetching the cyrus-imapd $version source"
  for candidate in "$version" $(apt-cache showsrc cyrus-imapd | sed -n 's/^Version: //p' | sort -u); do
    apt-get source -qq --download-only "cyrus-imapd=$candidate" >/dev/null 2>&1 || true
    [ -f "cyrus-imapd_${upstream}.orig.tar.gz" ] && ls cyrus-imapd_"${version}".debian.tar.* >/dev/null 2>&1 && break
  done
fi
[ -f "cyrus-imapd_${upstream}.orig.tar.gz" ] || { log "no orig tarball for $upstream"; exit 1; }
debian_tar=$(ls cyrus-imapd_"${version}".debian.tar.* 2>/dev/null | head -n1)
[ -n "$debian_tar" ] || { log "no Debian patches for $version"; exit 1; }

log "installing build dependencies"
DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq --no-install-recommends "cyrus-imapd=$version" >/dev/null 2>&1 \
  || DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq --no-install-recommends cyrus-imapd >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libwslay-dev >/dev/null

rm -rf tree && mkdir tree && cd tree
tar xzf "../cyrus-imapd_${upstream}.orig.tar.gz"
cd "cyrus-imapd-${upstream}"
tar xf "../../$debian_tar"
while read -r p; do
  case "$p" in \#*|"") continue ;; esac
  patch -p1 -s < "debian/patches/$p"
done < debian/patches/series

# The pkg-config file Debian's libwslay-dev lacks.
mkdir -p "$cache/pkgconfig"
wslay_version=$(dpkg-query -W -f='${Version}' libwslay-dev); wslay_version=${wslay_version%%-*}
cat > "$cache/pkgconfig/libwslay.pc" <<PC
prefix=/usr
libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
includedir=/usr/include
Name: libwslay
Description: WebSocket library
Version: $wslay_version
Libs: -L\${libdir} -lwslay
Cflags: -I\${includedir}
PC
export PKG_CONFIG_PATH="$cache/pkgconfig"

log "configuring as Debian does"
export CFLAGS="$(dpkg-buildflags --get CFLAGS) -fno-strict-aliasing" LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
./configure --build="$(dpkg-architecture -qDEB_HOST_GNU_TYPE)" --prefix=/usr --with-extraident="Debian-$version-petrel-push" \
  --includedir=/usr/include --datadir=/usr/share/cyrus --sharedstatedir=/usr/share/cyrus --localstatedir=/var/lib/cyrus \
  --libexecdir=/usr/lib/cyrus/bin --bindir=/usr/lib/cyrus/bin --sbindir=/usr/lib/cyrus/bin --disable-silent-rules \
  --enable-autocreate --enable-idled --enable-nntp --enable-murder --enable-http --enable-jmap --enable-replication \
  --enable-xapian --enable-backup --enable-calalarmd --enable-gssapi=/usr \
  --with-cyrus-user=cyrus --with-cyrus-group=mail --with-pgsql --with-pgsql-incdir=/usr/include/postgresql \
  --with-lock=fcntl --with-ldap --with-krb --with-krbimpl=mit --without-krbdes --with-openssl --with-zlib \
  --with-libcap --with-pidfile=/run/cyrus-master.pid --with-com_err="" --with-syslogfacility=MAIL \
  --with-gss_impl=mit --with-sasl --with-perl=/usr/bin/perl > "$cache/configure.log" 2>&1 \
  || { tail -30 "$cache/configure.log" >&2; exit 1; }
grep -q '^#define HAVE_WSLAY' config.h || { log "configure did not find wslay"; exit 1; }

var() { make -s --no-print-directory --eval='print-%: ; @echo $($*)' "print-$1"; }
log "generating sources"
make -s -j"$(nproc)" $(var BUILT_SOURCES) >/dev/null
objects=$(var imap_httpd_OBJECTS)
log "compiling httpd's $(echo $objects | wc -w) objects (a few minutes)"
make -s -j"$(nproc)" $objects > "$cache/make.log" 2>&1 || { tail -30 "$cache/make.log" >&2; exit 1; }

# Link against the installed libcyrus libraries (same source, same configuration) instead of
# building them: only the httpd differs from Debian's.
multiarch=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libs=""
for la in $(var imap_httpd_LDADD) $(var HTTP_LIBS) -lshp $(pkg-config --libs libwslay libnghttp2 libbrotlienc libbrotlidec libzstd 2>/dev/null); do
  case "$la" in
    */libcyrus_sieve.la) la=$multiarch/libcyrus_sieve.so.0 ;;
    */libcyrus_imap.la) la=$multiarch/libcyrus_imap.so.0 ;;
    */libcyrus_min.la) la=$multiarch/libcyrus_min.so.0 ;;
    */libcyrus.la) la=$multiarch/libcyrus.so.0 ;;
  esac
  case " $libs " in *" $la "*) ;; *) libs="$libs $la" ;; esac
done
log "linking"
gcc $LDFLAGS -o "$cache/httpd.new" $objects $libs -lwslay -lm > "$cache/link.log" 2>&1 || { tail -30 "$cache/link.log" >&2; exit 1; }
mv "$cache/httpd.new" "$cache/httpd"
rm -rf "$cache/src/tree"
log "built $cache/httpd"
echo "$cache/httpd"
