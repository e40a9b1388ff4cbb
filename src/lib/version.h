/* SPDX-License-Identifier: Apache-2.0 */
/* capsa's release version, shown by `capsa --version` and GET /version. */
#ifndef CAPSA_LIB_VERSION_H
#define CAPSA_LIB_VERSION_H

#ifndef CAPSA_VERSION
#define CAPSA_VERSION "0.1.0"
#endif

#endif
