quant train --symbols AAA --threads 0
