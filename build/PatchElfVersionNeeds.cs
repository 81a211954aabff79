// PatchElfVersionNeeds.cs
//
// MSBuild task (compiled by RoslynCodeTaskFactory from PatchElfVersionNeeds.targets) that relaxes
// symbol-version requirements of ELF64 shared libraries which the dynamic linker would otherwise
// refuse to load on an older distribution.
//
// Why: TorchSharp's libLibTorchSharp.so is linked with GCC 13+, which records a requirement on
// GLIBCXX_3.4.32 (via the marker symbol std::ios_base_library_init()). Debian 12's libstdc++
// only provides versions up to GLIBCXX_3.4.30, so dlopen fails with
// "version `GLIBCXX_3.4.32' not found" although no code in the library uses that symbol.
//
// What: for every version requirement (an Elf64_Vernaux entry in .gnu.version_r) that is a pure
// link-time marker, i.e. no dynamic relocation references any symbol bound to that version, the
// task sets VER_FLG_WEAK (0x2) in vna_flags. glibc's loader then tolerates the version being
// absent (it only checks weak requirements for verbose diagnostics). Requirements on symbols
// that are really used are never touched, so a genuinely missing function still fails loudly.
// A weakened requirement that the host does provide behaves exactly as before, so the result
// does not depend on the machine that ran the build.
//
// The ELF file is parsed properly: ELF header -> section headers -> section names via
// .shstrtab -> .gnu.version_r by name -> Verneed/Vernaux chains -> names from the linked string
// table (sh_link, normally .dynstr). Only the two bytes of each weakened vna_flags change.
//
// The patched file is written to a temporary file and renamed over the original, so a file that
// is hard-linked or symlinked to the NuGet cache, or mapped by a running process, is never
// modified in place. Patching is idempotent: an already patched file is left untouched.
//
// Caveat for this specific marker: GCC 13 headers no longer emit a static std::ios_base::Init
// object per translation unit that includes <iostream>; the marker makes sure the runtime
// libstdc++ initialises the standard streams itself. With an older libstdc++ the streams are
// still initialised by any other loaded library built with an older GCC that includes
// <iostream> (libtorch_cpu.so does), which is the case for TorchSharp.
//
// Compiled against netstandard 2.0 by RoslynCodeTaskFactory: no Span, no BinaryPrimitives.

using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class PatchElfVersionNeeds : Task
{
    /// <summary>ELF shared libraries to patch in place. Missing files are ignored.</summary>
    [Required]
    public ITaskItem[] Files { get; set; }

    /// <summary>
    /// When true (default), after patching, every remaining non-weak requirement is compared
    /// with the version definitions of the library that would satisfy it on the build host
    /// (looked up next to the patched file, then in the usual system library directories), and
    /// a warning is logged for each requirement that the host does not provide.
    /// </summary>
    public bool CheckAgainstHost { get; set; } = true;

    /// <summary>The files that were actually modified by this invocation.</summary>
    [Output]
    public ITaskItem[] PatchedFiles { get; set; }

    // ELF constants (see elf.h).
    private const uint SHT_REL = 9;
    private const uint SHT_RELA = 4;
    private const uint SHT_GNU_VERDEF = 0x6ffffffd;
    private const uint SHT_GNU_VERNEED = 0x6ffffffe;
    private const uint SHT_GNU_VERSYM = 0x6fffffff;
    private const ushort VER_FLG_WEAK = 0x2;
    private const ushort VERSYM_HIDDEN = 0x8000;

    private static readonly string[] HostLibraryDirectories =
    {
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/lib64", "/usr/lib64", "/lib", "/usr/lib",
    };

    public override bool Execute()
    {
        var patched = new List<ITaskItem>();
        foreach (ITaskItem item in Files ?? new ITaskItem[0])
        {
            string path = item.GetMetadata("FullPath");
            if (!File.Exists(path))
            {
                continue;
            }

            try
            {
                if (PatchFile(path))
                {
                    patched.Add(item);
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is InvalidDataException)
            {
                Log.LogError(null, "PEVN001", null, path, 0, 0, 0, 0,
                    "Could not patch ELF version requirements of {0}: {1}", path, ex.Message);
            }
        }

        PatchedFiles = patched.ToArray();
        return !Log.HasLoggedErrors;
    }

    /// <summary>Patches one file; returns true if it was modified.</summary>
    private bool PatchFile(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        Elf elf = Elf.TryParse(data);
        if (elf == null)
        {
            Log.LogMessage(MessageImportance.Normal,
                "PatchElfVersionNeeds: {0} is not a little-endian ELF64 file; skipped.", path);
            return false;
        }

        List<VersionNeed> needs = elf.ReadVersionNeeds();
        if (needs.Count == 0)
        {
            Log.LogMessage(MessageImportance.Normal,
                "PatchElfVersionNeeds: {0} has no .gnu.version_r section; nothing to do.", path);
            return false;
        }

        HashSet<ushort> usedVersions = elf.ReadVersionIndicesUsedByRelocations();
        var weakened = new List<string>();
        foreach (VersionNeed need in needs)
        {
            bool isWeak = (need.Flags & VER_FLG_WEAK) != 0;
            if (isWeak || usedVersions.Contains(need.Index))
            {
                continue;
            }

            need.Flags |= VER_FLG_WEAK;
            elf.WriteUInt16(need.FlagsOffset, need.Flags);
            weakened.Add(need.Name + " (" + need.File + ")");
        }

        if (weakened.Count > 0)
        {
            ReplaceFile(path, data);
            Log.LogMessage(MessageImportance.High,
                "PatchElfVersionNeeds: {0}: marked unused version requirement(s) weak: {1}",
                path, string.Join(", ", weakened));
        }
        else
        {
            Log.LogMessage(MessageImportance.Normal,
                "PatchElfVersionNeeds: {0}: already patched (no unused strong version requirements).", path);
        }

        if (CheckAgainstHost)
        {
            WarnAboutRequirementsMissingOnHost(path, needs);
        }

        return weakened.Count > 0;
    }

    /// <summary>
    /// Replaces the file's content via a temporary sibling and a rename, so that an inode shared
    /// with the NuGet cache (hard link, symlink) or mapped by a running process is never written.
    /// File.Copy keeps the permission bits; the original last-write time is kept as well, so the
    /// SDK's "skip unchanged files" copy from the package folder (which compares size and
    /// timestamp) leaves the patched copy alone on the next build instead of re-copying it.
    /// </summary>
    private static void ReplaceFile(string path, byte[] content)
    {
        DateTime lastWriteUtc = File.GetLastWriteTimeUtc(path);
        string temp = path + ".pevn-tmp";
        File.Copy(path, temp, overwrite: true);
        using (var stream = new FileStream(temp, FileMode.Truncate, FileAccess.Write))
        {
            stream.Write(content, 0, content.Length);
        }

        File.SetLastWriteTimeUtc(temp, lastWriteUtc);
        File.Replace(temp, path, null);
    }

    /// <summary>
    /// Logs a warning for each strong requirement that the build host cannot satisfy, so that a
    /// load failure shows up at build time instead of as a DllNotFoundException in a test.
    /// </summary>
    private void WarnAboutRequirementsMissingOnHost(string path, List<VersionNeed> needs)
    {
        var definitionsByFile = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (VersionNeed need in needs)
        {
            if ((need.Flags & VER_FLG_WEAK) != 0)
            {
                continue;
            }

            HashSet<string> defined;
            if (!definitionsByFile.TryGetValue(need.File, out defined))
            {
                defined = ReadHostVersionDefinitions(Path.GetDirectoryName(path), need.File);
                definitionsByFile[need.File] = defined;
            }

            if (defined != null && !defined.Contains(need.Name))
            {
                Log.LogWarning(null, "PEVN002", null, path, 0, 0, 0, 0,
                    "{0} requires {1} from {2} for symbols it really uses, and this machine's {2} does not provide it; the library will not load here.",
                    Path.GetFileName(path), need.Name, need.File);
            }
        }
    }

    /// <summary>Version names defined by the host's copy of a library, or null if not found.</summary>
    private static HashSet<string> ReadHostVersionDefinitions(string siblingDirectory, string soname)
    {
        var candidates = new List<string> { Path.Combine(siblingDirectory, soname) };
        foreach (string dir in HostLibraryDirectories)
        {
            candidates.Add(Path.Combine(dir, soname));
        }

        foreach (string candidate in candidates)
        {
            if (!File.Exists(candidate))
            {
                continue;
            }

            Elf lib = Elf.TryParse(File.ReadAllBytes(candidate));
            if (lib != null)
            {
                return lib.ReadVersionDefinitions();
            }
        }

        return null;
    }

    /// <summary>One Elf64_Vernaux entry, with the file name of its Elf64_Verneed parent.</summary>
    private sealed class VersionNeed
    {
        public string File;
        public string Name;
        public ushort Index;      // vna_other: the version index used in .gnu.version
        public ushort Flags;      // vna_flags
        public int FlagsOffset;   // file offset of vna_flags
    }

    private struct Section
    {
        public uint NameOffset;   // sh_name: offset into the section-name string table
        public string Name;
        public uint Type;
        public long Offset;
        public long Size;
        public uint Link;
        public uint Info;
        public long EntrySize;
    }

    /// <summary>Minimal little-endian ELF64 reader over an in-memory copy of the file.</summary>
    private sealed class Elf
    {
        private readonly byte[] _data;
        private readonly Section[] _sections;

        private Elf(byte[] data, Section[] sections)
        {
            _data = data;
            _sections = sections;
        }

        /// <summary>Returns null for anything that is not a little-endian ELF64 file.</summary>
        public static Elf TryParse(byte[] data)
        {
            // e_ident: magic, EI_CLASS (2 = ELFCLASS64), EI_DATA (1 = ELFDATA2LSB).
            if (data.Length < 64 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L'
                || data[3] != (byte)'F' || data[4] != 2 || data[5] != 1)
            {
                return null;
            }

            // Elf64_Ehdr fields.
            long shoff = (long)U64(data, 0x28);
            int shentsize = U16(data, 0x3A);
            long shnum = U16(data, 0x3C);
            long shstrndx = U16(data, 0x3E);
            if (shoff == 0)
            {
                return new Elf(data, new Section[0]);
            }

            if (shentsize < 64)
            {
                throw new InvalidDataException("unexpected e_shentsize " + shentsize);
            }

            // Extended numbering: the real counts live in section header 0.
            if (shnum == 0)
            {
                shnum = (long)U64(data, (int)shoff + 32); // sh_size of section 0
            }

            if (shstrndx == 0xffff)
            {
                shstrndx = U32(data, (int)shoff + 40);    // sh_link of section 0
            }

            var sections = new Section[shnum];
            for (long i = 0; i < shnum; i++)
            {
                int h = Checked(data, shoff + i * shentsize, 64);
                sections[i] = new Section
                {
                    NameOffset = U32(data, h),
                    Type = U32(data, h + 4),
                    Offset = (long)U64(data, h + 24),
                    Size = (long)U64(data, h + 32),
                    Link = U32(data, h + 40),
                    Info = U32(data, h + 44),
                    EntrySize = (long)U64(data, h + 56),
                };
            }

            if (shstrndx >= shnum)
            {
                throw new InvalidDataException("e_shstrndx out of range");
            }

            var elf = new Elf(data, sections);
            for (int i = 0; i < sections.Length; i++)
            {
                sections[i].Name = elf.ReadString(sections[shstrndx], sections[i].NameOffset);
            }

            return elf;
        }

        /// <summary>All Vernaux entries of .gnu.version_r, or an empty list if there is none.</summary>
        public List<VersionNeed> ReadVersionNeeds()
        {
            var result = new List<VersionNeed>();
            int index = FindSection(".gnu.version_r");
            if (index < 0)
            {
                return result;
            }

            Section verneed = _sections[index];
            if (verneed.Type != SHT_GNU_VERNEED)
            {
                throw new InvalidDataException(".gnu.version_r is not of type SHT_GNU_verneed");
            }

            Section strings = LinkedSection(verneed);

            // sh_info holds the number of Elf64_Verneed entries.
            long need = verneed.Offset;
            for (uint n = 0; n < verneed.Info; n++)
            {
                int vn = Checked(_data, need, 16);
                ushort auxCount = U16(_data, vn + 2);   // vn_cnt
                string file = ReadString(strings, U32(_data, vn + 4));  // vn_file
                long aux = need + U32(_data, vn + 8);   // vn_aux (relative to this Verneed)

                for (int a = 0; a < auxCount; a++)
                {
                    int va = Checked(_data, aux, 16);
                    result.Add(new VersionNeed
                    {
                        File = file,
                        Flags = U16(_data, va + 4),                   // vna_flags
                        FlagsOffset = va + 4,
                        Index = (ushort)(U16(_data, va + 6) & 0x7fff), // vna_other
                        Name = ReadString(strings, U32(_data, va + 8)), // vna_name
                    });
                    aux += U32(_data, va + 12);                        // vna_next
                }

                uint next = U32(_data, vn + 12);                       // vn_next
                if (next == 0)
                {
                    break;
                }

                need += next;
            }

            return result;
        }

        /// <summary>
        /// Version indices of every dynamic symbol that some REL/RELA relocation refers to.
        /// A version that is not in this set only labels symbols no code or data ever binds to.
        /// </summary>
        public HashSet<ushort> ReadVersionIndicesUsedByRelocations()
        {
            var used = new HashSet<ushort>();
            int versymIndex = -1;
            for (int i = 0; i < _sections.Length; i++)
            {
                if (_sections[i].Type == SHT_GNU_VERSYM)
                {
                    versymIndex = i;
                    break;
                }
            }

            if (versymIndex < 0)
            {
                return used; // no symbol versioning at all
            }

            // .gnu.version is parallel to the dynamic symbol table it links to.
            Section versym = _sections[versymIndex];
            uint dynsymIndex = versym.Link;
            long symbolCount = versym.Size / 2;

            foreach (Section rel in _sections)
            {
                if ((rel.Type != SHT_RELA && rel.Type != SHT_REL) || rel.Link != dynsymIndex)
                {
                    continue;
                }

                long entrySize = rel.EntrySize != 0 ? rel.EntrySize : (rel.Type == SHT_RELA ? 24 : 16);
                for (long off = rel.Offset; off + entrySize <= rel.Offset + rel.Size; off += entrySize)
                {
                    // r_info = (symbol index << 32) | type; symbol 0 means "no symbol".
                    ulong info = U64(_data, Checked(_data, off + 8, 8));
                    long symbol = (long)(info >> 32);
                    if (symbol == 0 || symbol >= symbolCount)
                    {
                        continue;
                    }

                    ushort version = U16(_data, Checked(_data, versym.Offset + symbol * 2, 2));
                    used.Add((ushort)(version & ~VERSYM_HIDDEN));
                }
            }

            return used;
        }

        /// <summary>Names of all versions defined in .gnu.version_d (empty if none).</summary>
        public HashSet<string> ReadVersionDefinitions()
        {
            var result = new HashSet<string>(StringComparer.Ordinal);
            foreach (Section verdef in _sections)
            {
                if (verdef.Type != SHT_GNU_VERDEF)
                {
                    continue;
                }

                Section strings = LinkedSection(verdef);
                long def = verdef.Offset;
                for (uint n = 0; n < verdef.Info; n++)
                {
                    int vd = Checked(_data, def, 20);
                    if (U16(_data, vd + 6) > 0)                         // vd_cnt
                    {
                        // The first Verdaux names the version itself; later ones name parents.
                        int vda = Checked(_data, def + U32(_data, vd + 12), 8); // vd_aux
                        result.Add(ReadString(strings, U32(_data, vda)));       // vda_name
                    }

                    uint next = U32(_data, vd + 16);                   // vd_next
                    if (next == 0)
                    {
                        break;
                    }

                    def += next;
                }
            }

            return result;
        }

        public void WriteUInt16(int offset, ushort value)
        {
            _data[offset] = (byte)value;
            _data[offset + 1] = (byte)(value >> 8);
        }

        private int FindSection(string name)
        {
            for (int i = 0; i < _sections.Length; i++)
            {
                if (_sections[i].Name == name)
                {
                    return i;
                }
            }

            return -1;
        }

        private Section LinkedSection(Section section)
        {
            if (section.Link >= _sections.Length)
            {
                throw new InvalidDataException("sh_link out of range in " + section.Name);
            }

            return _sections[section.Link];
        }

        private string ReadString(Section table, uint offset)
        {
            if (offset >= table.Size)
            {
                throw new InvalidDataException("string offset outside its string table");
            }

            int start = Checked(_data, table.Offset + offset, 1);
            int end = start;
            long limit = table.Offset + table.Size;
            while (end < limit && _data[end] != 0)
            {
                end++;
            }

            return Encoding.UTF8.GetString(_data, start, end - start);
        }
    }

    /// <summary>Validates that [offset, offset + length) lies inside the file.</summary>
    private static int Checked(byte[] data, long offset, int length)
    {
        if (offset < 0 || offset + length > data.Length)
        {
            throw new InvalidDataException("ELF structure points outside the file");
        }

        return (int)offset;
    }

    private static ushort U16(byte[] d, int o)
    {
        Checked(d, o, 2);
        return (ushort)(d[o] | d[o + 1] << 8);
    }

    private static uint U32(byte[] d, int o)
    {
        Checked(d, o, 4);
        return (uint)(d[o] | d[o + 1] << 8 | d[o + 2] << 16 | d[o + 3] << 24);
    }

    private static ulong U64(byte[] d, int o)
    {
        return U32(d, o) | (ulong)U32(d, o + 4) << 32;
    }
}
