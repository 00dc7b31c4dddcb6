/*
 * Hashing for the audit-chain verifier (app/services/audit.py), without the GIL.
 *
 * hashlib holds the GIL while it hashes anything under 2 KiB, and an audit record is well
 * under that: the verifier's reader threads could read in parallel but hash only one at a
 * time. This hashes a whole batch of records in one call with the GIL released, using the
 * same OpenSSL SHA-256 that hashlib uses. It computes nothing the pure-Python fallback
 * (_hashed_batch in audit.py) does not; tests check that both agree.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <openssl/evp.h>

#define DIGEST_SIZE 32

static const EVP_MD *sha256;

/* Where the part starting at `start` ends: at the next separator, or at `end`. */
static const char *
part_end(const char *start, const char *end, int separator)
{
    const char *found = memchr(start, separator, (size_t)(end - start));
    return found != NULL ? found : end;
}

PyDoc_STRVAR(sha256_split_doc,
"sha256_split(records, separator, prefix, /)\n--\n\n"
"Split `records` (bytes) at each `separator` byte and hash every part with SHA-256.\n"
"Returns (parts, prefixes, digests): the number of parts; the first `prefix` bytes of\n"
"each part joined, or None if a part is shorter than that; their digests joined.\n"
"Empty `records` holds no parts.");

static PyObject *
sha256_split(PyObject *module, PyObject *args)
{
    Py_buffer records;
    int separator;
    Py_ssize_t prefix;
    if (!PyArg_ParseTuple(args, "y*in:sha256_split", &records, &separator, &prefix)) {
        return NULL;
    }
    if (separator < 0 || separator > 255 || prefix < 0) {
        PyBuffer_Release(&records);
        PyErr_SetString(PyExc_ValueError, "separator must be a byte and prefix not negative");
        return NULL;
    }
    const char *data = records.buf;
    const char *end = data + records.len;
    Py_ssize_t parts = 0;
    int short_part = 0;

    Py_BEGIN_ALLOW_THREADS
    for (const char *start = data; records.len > 0; ) {
        const char *stop = part_end(start, end, separator);
        parts++;
        if (stop - start < prefix) {
            short_part = 1;
        }
        if (stop == end) {
            break;
        }
        start = stop + 1;
    }
    Py_END_ALLOW_THREADS

    PyObject *digests = PyBytes_FromStringAndSize(NULL, parts * DIGEST_SIZE);
    PyObject *prefixes = short_part ? Py_NewRef(Py_None)
                                    : PyBytes_FromStringAndSize(NULL, parts * prefix);
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (digests == NULL || prefixes == NULL || context == NULL) {
        goto failed;
    }
    unsigned char *digest_out = (unsigned char *)PyBytes_AS_STRING(digests);
    char *prefix_out = short_part ? NULL : PyBytes_AS_STRING(prefixes);
    int hashed = 1;

    /* The new bytes objects are ours alone until returned: filling them needs no GIL. */
    Py_BEGIN_ALLOW_THREADS
    const char *start = data;
    for (Py_ssize_t index = 0; index < parts && hashed; index++) {
        const char *stop = part_end(start, end, separator);
        if (prefix_out != NULL) {
            memcpy(prefix_out + index * prefix, start, (size_t)prefix);
        }
        hashed = EVP_DigestInit_ex(context, sha256, NULL)
                 && EVP_DigestUpdate(context, start, (size_t)(stop - start))
                 && EVP_DigestFinal_ex(context, digest_out + index * DIGEST_SIZE, NULL);
        start = stop + 1;
    }
    Py_END_ALLOW_THREADS

    if (!hashed) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL could not compute a SHA-256 digest");
        goto failed;
    }
    EVP_MD_CTX_free(context);
    PyBuffer_Release(&records);
    PyObject *result = Py_BuildValue("(nNN)", parts, prefixes, digests);
    return result;

failed:
    EVP_MD_CTX_free(context);
    Py_XDECREF(digests);
    Py_XDECREF(prefixes);
    PyBuffer_Release(&records);
    return NULL;
}

static PyMethodDef methods[] = {
    {"sha256_split", sha256_split, METH_VARARGS, sha256_split_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT,
    .m_name = "app.services._chain_digests",
    .m_doc = "SHA-256 of a batch of audit records, computed without the GIL.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__chain_digests(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    /* Fetched once: EVP_sha256() would look the implementation up again on every init. */
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
    sha256 = EVP_sha256();
#endif
    if (sha256 == NULL) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL offers no SHA-256");
        return NULL;
    }
    return PyModule_Create(&module_definition);
}
