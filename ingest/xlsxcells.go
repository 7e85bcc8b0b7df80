package ingest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// What xlsxText needs to know of a worksheet's cells beyond their values:
// the number format of a column's numbers (a date?) and whether its 0s
// and 1s are TRUE and FALSE. excelize gives a cell's style and type only
// from the worksheet held whole (GetCellStyle parses all of it: 520 MB
// and 3 s for 100,000 rows of five columns), so the worksheet's XML is
// read here instead, as a stream, up to the rows it takes.

// cellKind is what one cell of a column says of the column.
type cellKind struct {
	row   int  // from 1
	style int  // the cell's style (s), 0 by default
	bool  bool // a TRUE or FALSE cell (t="b")
}

// firstCells returns, for each column (from 0) of the worksheet named
// sheet in the workbook data, its first two cells that hold a number or
// a bool in the first maxCellRows rows.
func firstCells(data []byte, sheet string) (map[int][]cellKind, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	part, err := sheetPart(zr, sheet)
	if err != nil {
		return nil, err
	}
	f, err := zr.Open(part)
	if err != nil {
		return nil, fmt.Errorf("worksheet %q (%s): %w", sheet, part, err)
	}
	defer f.Close()
	cells := map[int][]cellKind{}
	dec := xml.NewDecoder(f)
	row, col := 0, -1
	var cur cellKind
	var t string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return cells, nil
		}
		if err != nil {
			return nil, fmt.Errorf("worksheet %q: %w", sheet, err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "row":
				if row, col = rowNumber(e, row+1), -1; row > maxCellRows {
					return cells, nil
				}
			case "c":
				col++
				cur, t = cellKind{row: row}, "n"
				for _, a := range e.Attr {
					switch a.Name.Local {
					case "r":
						if c, ok := columnOf(a.Value); ok {
							col = c
						}
					case "s":
						cur.style, _ = strconv.Atoi(a.Value)
					case "t":
						t = a.Value
					}
				}
			case "v":
				if (t == "n" || t == "b") && len(cells[col]) < 2 {
					cur.bool = t == "b"
					cells[col] = append(cells[col], cur)
				}
			}
		case xml.EndElement:
			if e.Name.Local == "sheetData" {
				return cells, nil
			}
		}
	}
}

// maxCellRows is how many rows firstCells reads: a column whose first
// number comes later is taken for plain numbers.
const maxCellRows = 1000

// rowNumber is a row element's r attribute, or next without one.
func rowNumber(e xml.StartElement, next int) int {
	for _, a := range e.Attr {
		if a.Name.Local == "r" {
			if n, err := strconv.Atoi(a.Value); err == nil {
				return n
			}
		}
	}
	return next
}

// columnOf is the column (from 0) of a cell reference such as "AB12".
func columnOf(ref string) (int, bool) {
	n, i := 0, 0
	for ; i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z'; i++ {
		n = n*26 + int(ref[i]-'A') + 1
	}
	return n - 1, i > 0
}

// sheetPart is the zip entry of the worksheet named sheet: the workbook
// names its sheets with relationship ids, which its relationships map to
// parts.
func sheetPart(zr *zip.Reader, sheet string) (string, error) {
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := readXMLPart(zr, "xl/workbook.xml", &wb); err != nil {
		return "", err
	}
	if err := readXMLPart(zr, "xl/_rels/workbook.xml.rels", &rels); err != nil {
		return "", err
	}
	for _, s := range wb.Sheets {
		if s.Name != sheet {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID == s.ID {
				if strings.HasPrefix(r.Target, "/") {
					return strings.TrimPrefix(r.Target, "/"), nil
				}
				return path.Join("xl", r.Target), nil
			}
		}
	}
	return "", fmt.Errorf("worksheet %q: no part in the workbook's relationships", sheet)
}

// readXMLPart decodes the zip entry name into v.
func readXMLPart(zr *zip.Reader, name string, v any) error {
	f, err := zr.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := xml.NewDecoder(f).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
